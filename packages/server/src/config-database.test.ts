import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig, resolveConfig } from './config.js';

describe('--database / KLUIS_DATABASE', () => {
  it('defaults to SQLite and takes a postgres URL from a flag or the environment', () => {
    expect(loadServerConfig({ flags: {}, env: {} }).database).toBe('');
    const url = 'postgres://kluis:secret@db.example:5432/kluis';
    expect(loadServerConfig({ flags: {}, env: { KLUIS_DATABASE: url } }).database).toBe(url);
    expect(loadServerConfig({ flags: { database: 'postgresql://h/db' }, env: { KLUIS_DATABASE: url } }).database).toBe('postgresql://h/db');
    expect(resolveConfig({ dataDir: '/tmp/x', host: '', port: 0, envelopeTtlMs: 1 }).database).toBe('');
  });

  it('rejects anything else without echoing the value (it may hold a password)', () => {
    for (const bad of ['mysql://u:hunter2@h/db', 'hunter2', 'postgres://']) {
      const load = () => loadServerConfig({ flags: { database: bad }, env: {} });
      expect(load).toThrow(ConfigError);
      expect(load).toThrow(/--database must be a postgres:\/\//);
      expect(() => load()).not.toThrow(/hunter2/);
    }
  });
});
