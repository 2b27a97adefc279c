import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ServerError, type Client } from '@kluis/sdk';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { startAppHost, type AppHost } from './host.js';

/** The host without a browser or a kluis server: what it serves, and to whom. */
describe('kluis app host', () => {
  let dir: string;
  let host: AppHost;
  const api = (path: string, init: RequestInit = {}) => fetch(`${host.origin}${path}`, init);
  const auth = () => ({ authorization: `Bearer ${host.token}` });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kluis-app-host-'));
    const dist = join(dir, 'dist');
    await mkdir(dist);
    await writeFile(join(dist, 'index.html'), '<!doctype html><title>kluis</title>');
    host = await startAppHost({ profileName: 'test', profileDir: join(dir, 'profile'), distDir: dist });
  });
  afterAll(async () => {
    await host?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('listens on 127.0.0.1 and prints an address with a fresh 256-bit token in the fragment', () => {
    expect(host.url).toMatch(/^http:\/\/127\.0\.0\.1:\d+\/#token=[0-9a-f]{64}$/);
  });

  it('serves the UI with a strict CSP and no CORS, and any screen path as the page', async () => {
    for (const path of ['/', '/conversations/bob']) {
      const res = await api(path);
      expect(res.status).toBe(200);
      expect(res.headers.get('content-security-policy')).toBe(
        `default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' blob:; media-src 'self' blob:; connect-src 'self' ws://127.0.0.1:${host.port}; base-uri 'none'; form-action 'none'; frame-ancestors 'none'; object-src 'none'`,
      );
      expect(res.headers.get('access-control-allow-origin')).toBeNull();
      expect(res.headers.get('cache-control')).toBe('no-store');
    }
    expect((await api('/assets/missing.js')).status).toBe(404);
    expect((await api('/../../etc/passwd')).status).toBe(200); // normalised to / by the URL parser: the page, not the file
  });

  it('answers the API only with the token, from its own origin', async () => {
    expect((await api('/api/state')).status).toBe(401);
    const ok = await api('/api/state', { headers: auth() });
    expect(await ok.json()).toEqual({ state: 'new', profile: 'test', account: null, connected: false });
    expect((await api('/api/state', { headers: { ...auth(), origin: 'http://127.0.0.1:1' } })).status).toBe(403);
    const preflight = await api('/api/state', { method: 'OPTIONS', headers: { origin: 'http://evil.example', 'access-control-request-method': 'GET' } });
    expect(preflight.status).toBe(403);
    expect(preflight.headers.get('access-control-allow-origin')).toBeNull();
  });

  it('guards an API route however its path is spelled (the router decodes %-escapes)', async () => {
    for (const path of ['/%61pi/state', '/%61%70%69/state']) expect((await api(path)).status, path).toBe(401);
    const lock = await api('/%61pi/lock', { method: 'POST', headers: { origin: 'http://evil.example', 'sec-fetch-site': 'cross-site' } });
    expect(lock.status).not.toBe(200);
  });

  it('checks request bodies against their schema and refuses locked routes before unlocking', async () => {
    const bad = await api('/api/register', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: JSON.stringify({ serverUrl: 'ftp://x' }) });
    expect(bad.status).toBe(400);
    expect(((await bad.json()) as { code: string }).code).toBe('BAD_REQUEST');
    const notJson = await api('/api/unlock', { method: 'POST', headers: { ...auth(), 'content-type': 'text/plain' }, body: 'x' });
    expect(notJson.status).toBe(415);
    const locked = await api('/api/conversations', { headers: auth() });
    expect(locked.status).toBe(423);
    expect(((await locked.json()) as { code: string }).code).toBe('LOCKED');
  });

  it('creates member invites through the SDK, and a used-up quota is a 400 with the server\'s code for the page', async () => {
    const post = () => api('/api/account/invite', { method: 'POST', headers: { ...auth(), 'content-type': 'application/json' }, body: '{}' });
    expect((await post()).status).toBe(423); // locked: no client yet
    const createInvite = vi
      .fn<Client['subscription']['createInvite']>()
      .mockResolvedValueOnce({ code: 'ABCD-EFGH', remaining: 0 })
      .mockRejectedValueOnce(new ServerError(403, 'QUOTA_EXCEEDED', 'you have used all 1 of your invites'));
    // A registered client without a server: only the SDK call is faked, not the host's path to it.
    const spy = vi.spyOn(host.session, 'requireClient').mockReturnValue({ subscription: { createInvite } } as unknown as Client);
    try {
      const created = await post();
      expect(created.status).toBe(200);
      expect(await created.json()).toEqual({ code: 'ABCD-EFGH', remaining: 0 });
      const refused = await post();
      expect(refused.status).toBe(400);
      expect(await refused.json()).toEqual({ code: 'QUOTA_EXCEEDED', message: 'you have used all 1 of your invites' });
      expect(createInvite).toHaveBeenCalledTimes(2);
    } finally {
      spy.mockRestore();
    }
  });

  it('opens the event socket only with the token offered as a subprotocol', async () => {
    const open = (protocols: string[]) =>
      new Promise<string>((resolve) => {
        const ws = new WebSocket(`ws://127.0.0.1:${host.port}/api/events`, protocols);
        ws.on('message', (m) => (ws.close(), resolve(String(m))));
        ws.on('unexpected-response', (_q, res) => resolve(String(res.statusCode)));
        ws.on('error', () => resolve('error'));
      });
    expect(await open(['kluis'])).toBe('401');
    expect(await open(['kluis', 'token.00'])).toBe('401');
    expect(JSON.parse(await open(['kluis', `token.${host.token}`]))).toEqual({ type: 'hello', data: { state: 'new' } });
  });
});
