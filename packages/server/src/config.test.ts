import { resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig, resolveConfig, serverConfigHelp } from './config.js';

const load = (flags: Record<string, string | number | undefined>, env: NodeJS.ProcessEnv = {}) => loadServerConfig({ flags, env });

describe('loadServerConfig', () => {
  it('has documented defaults', () => {
    const c = load({});
    expect(c).toMatchObject({ dataDir: resolve('./data'), host: '127.0.0.1', port: 8470, envelopeTtlMs: 30 * 86_400_000, sqliteSync: 'full' });
  });

  it('reads environment variables, and flags win over them', () => {
    const env = { KLUIS_DATA: '/tmp/x', KLUIS_HOST: '0.0.0.0', KLUIS_PORT: '9000', KLUIS_ENVELOPE_TTL_DAYS: '0.5', KLUIS_SQLITE_SYNC: 'NORMAL' };
    expect(load({}, env)).toMatchObject({ dataDir: '/tmp/x', host: '0.0.0.0', port: 9000, envelopeTtlMs: 43_200_000, sqliteSync: 'normal' });
    expect(load({ port: 0, data: '/tmp/y', envelopeTtlDays: 2 }, env)).toMatchObject({ port: 0, dataDir: '/tmp/y', envelopeTtlMs: 2 * 86_400_000 });
    expect(load({ 'envelope-ttl-days': '3', '--argon2-iterations': '1' })).toMatchObject({ envelopeTtlMs: 3 * 86_400_000, argon2Iterations: 1 });
  });

  it('throws ConfigError with a clear message for bad values', () => {
    const cases: Array<[Record<string, string | number>, NodeJS.ProcessEnv, RegExp]> = [
      [{ port: 'abc' }, {}, /--port \/ KLUIS_PORT must be an integer from 0 to 65535 \(got 'abc' from --port\)/],
      [{}, { KLUIS_PORT: '70000' }, /KLUIS_PORT/],
      [{ envelopeTtlDays: '-1' }, {}, /--envelope-ttl-days/],
      [{ envelopeTtlDays: 'soon' }, {}, /must be a number/],
      [{ sqliteSync: 'off' }, {}, /'full' or 'normal'/],
      [{ host: 'a b' }, {}, /host/],
      [{ argon2MemoryKib: '1' }, {}, /argon2-memory-kib/],
    ];
    for (const [flags, env, message] of cases) {
      let error: unknown;
      try {
        load(flags, env);
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).message).toMatch(message);
      expect((error as ConfigError).code).toMatch(/^INVALID_/);
    }
  });

  it('documents every option with a flag, env name, default and description', () => {
    for (const o of serverConfigHelp) {
      expect(o.flag).toMatch(/^--[a-z0-9-]+$/);
      expect(o.env).toMatch(/^KLUIS_[A-Z0-9_]+$/);
      expect(o.default).toBeTruthy();
      expect(o.description.length).toBeGreaterThan(10);
    }
    expect(serverConfigHelp.map((o) => o.env)).toEqual(expect.arrayContaining(['KLUIS_DATA', 'KLUIS_HOST', 'KLUIS_PORT', 'KLUIS_ENVELOPE_TTL_DAYS']));
  });

  it('reads the request header limit in KiB (16 by default, 4 to 1024)', () => {
    expect(load({}).maxHeaderBytes).toBe(16 * 1024);
    expect(load({ 'max-header-kib': '8' }).maxHeaderBytes).toBe(8192);
    expect(load({}, { KLUIS_MAX_HEADER_KIB: '64' }).maxHeaderBytes).toBe(65536);
    expect(() => load({ 'max-header-kib': '2' })).toThrow(/--max-header-kib/);
  });

  it('fills optional fields of a hand-built config', () => {
    expect(resolveConfig({ dataDir: 'd', host: 'h', port: 0, envelopeTtlMs: 5 })).toMatchObject({ sqliteSync: 'full', argon2MemoryKib: 4096, authCacheSize: 50_000 });
    expect(() => resolveConfig({ dataDir: 'd', host: 'h', port: -1, envelopeTtlMs: 5 })).toThrow(ConfigError);
  });
});
