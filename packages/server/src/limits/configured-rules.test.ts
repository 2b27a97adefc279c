import { describe, expect, it } from 'vitest';
import { ConfigError, loadServerConfig } from '../config.js';
import { configuredRules } from './configured-rules.js';
import { DEFAULT_LIMITS } from './rules.js';

const load = (flags: Record<string, string>, env: NodeJS.ProcessEnv = {}) => loadServerConfig({ flags, env });

describe('configured rate limits', () => {
  it('are the defaults of rules.ts when nothing is set', () => {
    const rules = configuredRules(load({}));
    for (const [name, rule] of Object.entries(DEFAULT_LIMITS)) expect(rules[name as keyof typeof rules], name).toEqual(rule);
  });

  it('take the named flags, and --rate-limit for any bucket by name (it wins)', () => {
    const rules = configuredRules(load({ 'device-login-failures-per-minute': '5', 'rate-limit': 'usernameLookup=240/120/30, deviceAuthFailure=7/7/60' }));
    expect(rules.usernameLookup).toMatchObject({ burst: 240, perWindow: 120, windowMs: 30_000, what: DEFAULT_LIMITS.usernameLookup.what });
    // The kind-wide bucket stays as it was.
    expect(rules.usernameLookup.global).toEqual(DEFAULT_LIMITS.usernameLookup.global);
    expect(rules.deviceAuthFailure).toMatchObject({ burst: 7, perWindow: 7, windowMs: 60_000 });
  });

  it('reads KLUIS_RATE_LIMIT too', () => {
    expect(configuredRules(load({}, { KLUIS_RATE_LIMIT: 'keyUpload=60/60/600' })).keyUpload).toMatchObject({ burst: 60, perWindow: 60, windowMs: 600_000 });
  });

  it('refuses unknown names and bad numbers with a reason that helps', () => {
    const fails = (text: string) => {
      try {
        load({ 'rate-limit': text });
      } catch (err) {
        expect(err).toBeInstanceOf(ConfigError);
        return err as ConfigError;
      }
      throw new Error(`accepted ${text}`);
    };
    const unknown = fails('usernameLookups=1/1/1');
    expect(unknown.code).toBe('INVALID_RATE_LIMIT');
    expect(unknown.message).toContain("no rate limit is called 'usernameLookups'");
    expect(unknown.message).toContain('usernameLookup');
    expect(fails('usernameLookup=0/1/60').message).toContain('whole numbers from 1');
    expect(fails('usernameLookup=10/60').message).toContain('NAME=BURST/PER/SECONDS');
    expect(fails('constructor=1/1/1').message).toContain('no rate limit is called');
  });
});
