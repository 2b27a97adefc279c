import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig, resolveConfig } from './config.js';

describe('--public-url, --heartbeat-seconds, --drain-timeout-seconds', () => {
  it('default to the listening address, 5 s and 30 s, and take flags or environment', () => {
    const d = loadServerConfig({ flags: {}, env: {} });
    expect([d.publicUrl, d.heartbeatIntervalMs, d.drainTimeoutMs]).toEqual(['', 5_000, 30_000]);
    const c = loadServerConfig({
      flags: { 'public-url': 'https://ams-1.example' },
      env: { KLUIS_HEARTBEAT_SECONDS: '2', KLUIS_DRAIN_TIMEOUT_SECONDS: '0', KLUIS_PUBLIC_URL: 'https://other.example' },
    });
    expect([c.publicUrl, c.heartbeatIntervalMs, c.drainTimeoutMs]).toEqual(['https://ams-1.example', 2_000, 0]);
    const r = resolveConfig({ dataDir: '/tmp/x', host: '', port: 0, envelopeTtlMs: 1 });
    expect([r.publicUrl, r.heartbeatIntervalMs, r.drainTimeoutMs]).toEqual(['', 5_000, 30_000]);
  });

  it('rejects what clients could not use and intervals out of range', () => {
    expect(() => loadServerConfig({ flags: { 'public-url': 'ams-1.example' }, env: {} })).toThrow(/--public-url must be an http\(s\)/);
    expect(() => loadServerConfig({ flags: {}, env: { KLUIS_PUBLIC_URL: 'ftp://x' } })).toThrow(ConfigError);
    expect(() => loadServerConfig({ flags: { 'heartbeat-seconds': '0' }, env: {} })).toThrow(/from 1 to 300/);
    expect(() => loadServerConfig({ flags: { 'drain-timeout-seconds': 'soon' }, env: {} })).toThrow(/from 0 to 3600/);
    expect(() => resolveConfig({ dataDir: '/tmp/x', host: '', port: 0, envelopeTtlMs: 1, publicUrl: 'nope' })).toThrow(ConfigError);
  });
});
