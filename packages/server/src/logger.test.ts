import { describe, expect, it } from 'vitest';
import { createLogger, logLevelFromEnv, scrub } from './logger.js';

describe('logger', () => {
  it('writes debug lines only at debug level, errors at every level', () => {
    for (const level of ['error', 'info', 'debug'] as const) {
      const lines: string[] = [];
      const log = createLogger((l) => lines.push(l), level);
      log.debug('d');
      log.info('i');
      log.error('e');
      expect(lines).toEqual({ error: ['e'], info: ['i', 'e'], debug: ['d', 'i', 'e'] }[level]);
    }
    expect(logLevelFromEnv({ KLUIS_LOG_LEVEL: 'DEBUG' })).toBe('debug');
    expect(logLevelFromEnv({})).toBe('info');
  });

  it('scrubs ids, addresses and key material from error text, and keeps stack paths readable', () => {
    const lines: string[] = [];
    const log = createLogger((l) => lines.push(l), 'info');
    const err = new Error(
      'account 1b4e28ba-2fa1-11d2-883f-0016d3cca427 from ::ffff:10.20.30.40 and 2001:db8::7 sent key dGhpcyBpcyBhIHZlcnkgbG9uZyBiYXNlNjQgc3RyaW5nIDEyMw==',
    );
    err.stack = `${err.message}\n    at handler (/srv/kluis/packages/server/src/api/send-message.ts:42:7)`;
    log.error('send failed', err);
    expect(lines[0]).not.toMatch(/1b4e28ba|10\.20\.30\.40|2001:db8|dGhpcyBp/);
    expect(lines[0]).toContain('/srv/kluis/packages/server/src/api/send-message.ts:42:7');
    expect(scrub('connect ECONNREFUSED 192.0.2.1:4222')).toBe('connect ECONNREFUSED <addr>:4222');
  });
});
