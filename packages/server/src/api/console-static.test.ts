import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Fastify from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CONSOLE_CSP, registerConsole } from './console-static.js';

/** The console's static files: a fake dist, so `npm test` needs no Vite build. */
describe('console static files', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'kluis-console-'));
    await mkdir(join(dir, 'dist', 'assets'), { recursive: true });
    await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>console</title>');
    await writeFile(join(dir, 'dist', 'assets', 'index-abc.js'), 'console.log(1)');
    await writeFile(join(dir, 'secret.txt'), 'outside dist');
  });
  afterAll(() => rm(dir, { recursive: true, force: true }));

  const app = (dist: string) => {
    const a = Fastify();
    registerConsole(a, dist);
    return a;
  };

  it('serves index.html with a strict CSP and no caching, for /console and any app path', async () => {
    const a = app(join(dir, 'dist'));
    for (const url of ['/console', '/console/', '/console/accounts', '/console/index.html']) {
      const res = await a.inject({ url });
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.headers['content-security-policy']).toBe(CONSOLE_CSP);
      expect(res.headers['content-security-policy']).toContain("default-src 'self'");
      expect(res.headers['cache-control']).toBe('no-store');
      expect(res.headers['x-frame-options']).toBe('DENY');
      expect(res.body).toContain('<title>console</title>');
    }
  });

  it('serves hashed assets as immutable and answers 404 for missing files', async () => {
    const a = app(join(dir, 'dist'));
    const js = await a.inject({ url: '/console/assets/index-abc.js' });
    expect(js.statusCode).toBe(200);
    expect(js.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(js.headers['cache-control']).toContain('immutable');
    expect(js.body).toBe('console.log(1)');
    const missing = await a.inject({ url: '/console/assets/missing.js' });
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toEqual({ code: 'NOT_FOUND', message: expect.any(String) });
  });

  it('never serves a file outside dist', async () => {
    const a = app(join(dir, 'dist'));
    for (const url of ['/console/../secret.txt', '/console/%2e%2e/secret.txt', '/console/assets/%2e%2e%2f%2e%2e%2fsecret.txt']) {
      const res = await a.inject({ url });
      expect(res.body, url).not.toContain('outside dist');
    }
  });

  it('answers 503 telling to run the build when dist is missing', async () => {
    const res = await app(join(dir, 'nothing-here')).inject({ url: '/console' });
    expect(res.statusCode).toBe(503);
    // Every error in the API's shape, here too: {code, message}.
    expect(res.json()).toEqual({ code: 'UNAVAILABLE', message: expect.stringMatching(/npm run build/) });
  });
});
