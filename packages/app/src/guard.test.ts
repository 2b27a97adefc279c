import type { IncomingMessage } from 'node:http';
import { describe, expect, it } from 'vitest';
import { AppError } from './errors.js';
import { checkApi, checkTransport, isLoopback, socketToken } from './guard.js';

const cfg = { port: 4000, token: 'a'.repeat(64) };
function req(o: { address?: string; headers?: Record<string, string> }): IncomingMessage {
  return { socket: { remoteAddress: o.address ?? '127.0.0.1' }, headers: { host: '127.0.0.1:4000', ...(o.headers ?? {}) } } as unknown as IncomingMessage;
}
const code = (fn: () => void) => {
  try {
    fn();
    return 'ok';
  } catch (e) {
    return (e as AppError).code;
  }
};

describe('local API guard', () => {
  it('knows loopback addresses, v4, v6 and v4-mapped', () => {
    for (const a of ['127.0.0.1', '127.8.9.10', '::1', '::ffff:127.0.0.1']) expect(isLoopback(a), a).toBe(true);
    for (const a of ['192.168.1.5', '10.0.0.1', '::ffff:192.168.1.5', 'fe80::1', undefined]) expect(isLoopback(a), String(a)).toBe(false);
  });

  it('refuses a peer that is not on this machine, even with the token', () => {
    expect(code(() => checkApi(req({ address: '192.168.1.5' }), cfg, cfg.token))).toBe('NOT_LOOPBACK');
    expect(code(() => checkTransport(req({ address: '10.1.2.3' }), cfg))).toBe('NOT_LOOPBACK');
  });

  it('refuses another Host (DNS rebinding), another Origin, cross-site fetches and a missing or wrong token', () => {
    expect(code(() => checkApi(req({ headers: { host: 'evil.example:4000' } }), cfg, cfg.token))).toBe('BAD_HOST');
    expect(code(() => checkApi(req({ headers: { host: '127.0.0.1:4001' } }), cfg, cfg.token))).toBe('BAD_HOST');
    expect(code(() => checkApi(req({ headers: { origin: 'http://evil.example' } }), cfg, cfg.token))).toBe('BAD_ORIGIN');
    expect(code(() => checkApi(req({ headers: { origin: 'null' } }), cfg, cfg.token))).toBe('BAD_ORIGIN');
    expect(code(() => checkApi(req({ headers: { 'sec-fetch-site': 'same-site' } }), cfg, cfg.token))).toBe('BAD_ORIGIN');
    expect(code(() => checkApi(req({}), cfg, undefined))).toBe('BAD_TOKEN');
    expect(code(() => checkApi(req({}), cfg, 'b'.repeat(64)))).toBe('BAD_TOKEN');
    expect(code(() => checkApi(req({}), cfg, 'short'))).toBe('BAD_TOKEN');
  });

  it('lets the page in: its own origin, as 127.0.0.1 or localhost, with the token', () => {
    expect(code(() => checkApi(req({ headers: { origin: 'http://127.0.0.1:4000', 'sec-fetch-site': 'same-origin' } }), cfg, cfg.token))).toBe('ok');
    expect(code(() => checkApi(req({ headers: { host: 'localhost:4000', origin: 'http://localhost:4000' } }), cfg, cfg.token))).toBe('ok');
  });

  it('takes the socket token from the offered subprotocols only with "kluis" among them', () => {
    expect(socketToken(req({ headers: { 'sec-websocket-protocol': `kluis, token.${cfg.token}` } }))).toBe(cfg.token);
    expect(socketToken(req({ headers: { 'sec-websocket-protocol': `token.${cfg.token}` } }))).toBeUndefined();
    expect(socketToken(req({}))).toBeUndefined();
  });
});
