import { timingSafeEqual } from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { AppError } from './errors.js';

export interface GuardConfig {
  port: number;
  token: string;
}

const LOOPBACK = /^(127\.\d{1,3}\.\d{1,3}\.\d{1,3}|::1|::ffff:127\.\d{1,3}\.\d{1,3}\.\d{1,3})$/;

export function isLoopback(address: string | undefined): boolean {
  return address !== undefined && LOOPBACK.test(address);
}

/** The origins the UI is served from: the page may be opened as 127.0.0.1 or localhost. */
export function allowedOrigins(port: number): string[] {
  return [`http://127.0.0.1:${port}`, `http://localhost:${port}`];
}

function tokenMatches(given: string | undefined, token: string): boolean {
  if (!given) return false;
  const a = Buffer.from(given);
  const b = Buffer.from(token);
  return a.length === b.length && timingSafeEqual(a, b);
}

/**
 * Checks that apply to everything, static files included: a loopback peer, and a Host
 * header naming this port on loopback, so a DNS-rebinding page (evil.example resolving
 * to 127.0.0.1) is refused even before the token check.
 */
export function checkTransport(req: IncomingMessage, cfg: GuardConfig): void {
  if (!isLoopback(req.socket.remoteAddress)) throw new AppError(403, 'NOT_LOOPBACK', 'only this machine may use the kluis app');
  const host = req.headers.host;
  if (!host || !allowedOrigins(cfg.port).some((o) => o.slice('http://'.length) === host)) {
    throw new AppError(421, 'BAD_HOST', 'unexpected Host header');
  }
}

/**
 * The API and the socket: another origin's page must never get through, even with a
 * guessed token (no CORS headers are ever sent, and a foreign Origin or a cross-site
 * fetch is refused outright), and nothing gets through without the token.
 */
export function checkApi(req: IncomingMessage, cfg: GuardConfig, token: string | undefined): void {
  checkTransport(req, cfg);
  const origin = req.headers.origin;
  if (origin !== undefined && !allowedOrigins(cfg.port).includes(origin)) throw new AppError(403, 'BAD_ORIGIN', 'requests from other origins are refused');
  const site = req.headers['sec-fetch-site'];
  if (site !== undefined && site !== 'same-origin' && site !== 'none') throw new AppError(403, 'BAD_ORIGIN', 'cross-site requests are refused');
  if (!tokenMatches(token, cfg.token)) throw new AppError(401, 'BAD_TOKEN', 'missing or wrong app token');
}

/** HTTP: `Authorization: Bearer TOKEN`. */
export function bearer(req: IncomingMessage): string | undefined {
  const m = /^Bearer (\S+)$/.exec(req.headers.authorization ?? '');
  return m?.[1];
}

/**
 * WebSocket: browsers cannot set headers on a socket, so the page offers the subprotocols
 * ["kluis", "token.TOKEN"]; the host answers "kluis" (the token never goes into a URL,
 * where it could end up in a log or the history).
 */
export const SOCKET_PROTOCOL = 'kluis';
export function socketToken(req: IncomingMessage): string | undefined {
  const offered = (req.headers['sec-websocket-protocol'] ?? '').split(',').map((s) => s.trim());
  if (!offered.includes(SOCKET_PROTOCOL)) return undefined;
  return offered.find((p) => p.startsWith('token.'))?.slice('token.'.length);
}
