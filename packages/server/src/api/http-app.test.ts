import { connect, type AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { Routes } from '@kluis/protocol';
import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../config.js';
import type { AppContext } from '../context.js';
import { createLogger } from '../logger.js';
import { buildHttpApp } from './http-app.js';
import { apiRoutes } from './index.js';
import { defineRoute } from './route.js';

describe('route table', () => {
  it('implements every route of the protocol exactly once', () => {
    expect(apiRoutes.map((r) => r.name).sort()).toEqual(Object.keys(Routes).sort());
  });
});

describe('while closing', () => {
  it('answers requests that still arrive with a 503 in the {code, message} shape', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => (release = resolve));
    let started!: () => void;
    const busy = new Promise<void>((resolve) => (started = resolve));
    // One slow route keeps a keep-alive connection busy while the app closes.
    const slow = defineRoute({
      name: 'health',
      auth: 'none',
      async handler() {
        started();
        await gate;
        return { status: 'ok' };
      },
    });
    // Just what building the app reads; the slow route needs no database.
    const ctx = {
      config: resolveConfig({ dataDir: tmpdir(), host: '127.0.0.1', port: 0, envelopeTtlMs: 1000 }),
      log: createLogger(() => {}),
      metrics: { connectionsRefused: {}, connectionsEvicted: 0 },
      delivery: { sockets: { handleUpgrade: () => {} } },
    } as unknown as AppContext;
    const app = buildHttpApp(ctx, [slow]);
    await app.listen({ host: '127.0.0.1', port: 0 });
    // One keep-alive connection: the second request is sent only after close began.
    const socket = connect((app.server.address() as AddressInfo).port, '127.0.0.1');
    let raw = '';
    socket.on('data', (d) => (raw += d.toString('utf8')));
    const ended = new Promise<void>((resolve) => socket.on('close', () => resolve()));
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await busy;
    const closed = app.close();
    socket.write('GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n');
    await new Promise((resolve) => setTimeout(resolve, 100));
    release();
    await Promise.race([ended, new Promise((resolve) => setTimeout(resolve, 3000))]);
    socket.destroy();
    await closed;
    const second = raw.slice(raw.indexOf('HTTP/1.1', 1));
    expect(second).toMatch(/^HTTP\/1\.1 503 /);
    expect(second.toLowerCase()).toContain('retry-after: 2');
    const body = JSON.parse(second.slice(second.indexOf('\r\n\r\n') + 4));
    expect(body).toEqual({ code: 'UNAVAILABLE', message: 'the server is shutting down; try again shortly', retryAfterSeconds: 2 });
  });
});
