import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@kluis/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AppRoutes, appRouteParts } from './api/index.js';
import { APP_ROUTES } from './http-app.js';
import { startAppHost, type AppHost } from './host.js';

/** The host on Fastify: every contract route served, inputs checked by their schemas, uploads as raw bytes. */
describe('kluis app host routes', () => {
  let dir: string;
  let host: AppHost;
  const auth = () => ({ authorization: `Bearer ${host.token}` });
  const api = (path: string, init: RequestInit = {}) => fetch(`${host.origin}${path}`, { ...init, headers: { ...auth(), ...(init.headers ?? {}) } });
  const json = (method: string, path: string, body: unknown) => api(path, { method, headers: { 'content-type': 'application/json' }, body: typeof body === 'string' ? body : JSON.stringify(body) });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kluis-app-http-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>kluis</title>');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc.js'), 'console.log(1)');
    host = await startAppHost({ profileName: 'test', profileDir: join(dir, 'profile'), distDir: join(dir, 'dist') });
  });
  afterAll(async () => {
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('has one handler for every route of the contract', () => {
    expect(APP_ROUTES.map((r) => r.name).sort()).toEqual(Object.keys(AppRoutes).sort());
    for (const name of Object.keys(AppRoutes) as (keyof typeof AppRoutes)[]) expect(appRouteParts(name).path).toMatch(/^\/api\//);
  });

  it('answers bad input from the schema with 400 {code, message}, bad JSON, a wrong type and a big body too', async () => {
    const missing = await json('POST', '/api/unlock', {});
    expect(missing.status).toBe(400);
    expect(await missing.json()).toEqual({ code: 'BAD_REQUEST', message: "body is missing the required property 'passphrase'" });
    const extra = await json('POST', '/api/unlock', { passphrase: 'x', more: 1 });
    expect(((await extra.json()) as { message: string }).message).toBe("body has an unknown property 'more'");
    expect((await json('POST', '/api/unlock', { passphrase: 5 })).status).toBe(400);
    const notJson = await json('POST', '/api/unlock', '{nope');
    expect([notJson.status, ((await notJson.json()) as { code: string }).code]).toEqual([400, 'BAD_JSON']);
    const big = await json('POST', '/api/unlock', { passphrase: 'x'.repeat(300 * 1024) });
    expect([big.status, ((await big.json()) as { code: string }).code]).toEqual([413, 'TOO_LARGE']);
    const query = await api('/api/conversations/bob/messages?q=' + 'x'.repeat(2000));
    expect(query.status).toBe(400);
  });

  it('answers unknown API routes 404 and other methods outside /api 405, both only past the guard', async () => {
    expect((await fetch(`${host.origin}/api/nope`)).status).toBe(401);
    const nope = await api('/api/nope');
    expect([nope.status, await nope.json()]).toEqual([404, { code: 'NOT_FOUND', message: 'no such API route' }]);
    expect((await api('/', { method: 'POST' })).status).toBe(405);
    // fetch may not set Host: a raw request stands in for a DNS-rebinding page.
    const rebound = await new Promise<number>((resolve, reject) =>
      request({ host: '127.0.0.1', port: host.port, path: '/', headers: { host: 'evil.example' } }, (res) => (res.resume(), resolve(res.statusCode!)))
        .on('error', reject)
        .end(),
    );
    expect(rebound).toBe(421);
  });

  it('serves hashed assets for good and the page for any screen, with the CSP', async () => {
    const js = await fetch(`${host.origin}/assets/index-abc.js`);
    expect([js.status, js.headers.get('content-type'), js.headers.get('cache-control'), await js.text()]).toEqual([
      200,
      'text/javascript; charset=utf-8',
      'public, max-age=31536000, immutable',
      'console.log(1)',
    ]);
    expect(js.headers.get('content-security-policy')).toMatch(/^default-src 'self'/);
    const head = await fetch(`${host.origin}/conversations/bob`, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type')]).toEqual([200, 'text/html; charset=utf-8']);
  });

  it('takes an upload as raw bytes of any type, with its name in a header, and refuses an empty one', async () => {
    const addUpload = vi.spyOn(host.session, 'addUpload').mockResolvedValue('f'.repeat(24));
    try {
      for (const type of ['image/png', 'application/json', 'text/plain']) {
        const res = await api('/api/files', { method: 'POST', headers: { 'content-type': type, 'x-file-name': encodeURIComponent('ünï {1}.bin'), 'x-voice-note': '1', 'x-duration-ms': '1500' }, body: '{"a":1}' });
        expect(res.status, type).toBe(200);
        expect(await res.json()).toEqual({ fileId: 'f'.repeat(24) });
      }
      expect(addUpload).toHaveBeenLastCalledWith(Buffer.from('{"a":1}'), 'ünï {1}.bin', 'text/plain', { durationMs: 1500 });
      const empty = await api('/api/files', { method: 'POST', headers: { 'content-type': 'image/png' }, body: '' });
      expect([empty.status, ((await empty.json()) as { code: string }).code]).toEqual([400, 'EMPTY_FILE']);
    } finally {
      addUpload.mockRestore();
    }
  });

  it('serialises answers with the contract: nothing the SDK holds beyond it reaches the page', async () => {
    const devices = vi.fn().mockResolvedValue([{ deviceId: 1, name: 'laptop', createdAt: 5, current: true, secret: 'not for the page' }]);
    const spy = vi.spyOn(host.session, 'requireClient').mockReturnValue({ devices: { list: devices } } as unknown as Client);
    try {
      const res = await api('/api/devices');
      expect(await res.json()).toEqual([{ deviceId: 1, name: 'laptop', createdAt: 5, current: true }]);
      const bad = await api('/api/devices/x', { method: 'DELETE' });
      expect([bad.status, ((await bad.json()) as { code: string }).code]).toEqual([400, 'BAD_DEVICE']);
    } finally {
      spy.mockRestore();
    }
  });
});
