/**
 * Logging is a line sink on purpose: the server never logs request bodies, IP addresses,
 * user agents, usernames or envelope metadata (who, to whom, when, how big) — at any
 * level — and a bare sink makes it obvious what each call writes. Call sites pass fixed
 * text (route patterns, never URLs: paths carry account ids). The one uncontrolled input
 * is an error's message and stack, so those are scrubbed of ids and addresses below.
 * test/drills/log-hygiene.test.ts runs a session at debug level and greps the output.
 */
export type LogSink = (line: string) => void;

export type LogLevel = 'error' | 'info' | 'debug';

export interface Logger {
  debug(message: string): void;
  info(message: string): void;
  error(message: string, err?: unknown): void;
}

const RANK: Record<LogLevel, number> = { error: 0, info: 1, debug: 2 };

/** KLUIS_LOG_LEVEL: 'error', 'info' (default) or 'debug'. */
export function logLevelFromEnv(env: NodeJS.ProcessEnv = process.env): LogLevel {
  const v = env.KLUIS_LOG_LEVEL?.trim().toLowerCase();
  return v === 'error' || v === 'debug' || v === 'info' ? v : 'info';
}

export function createLogger(sink: LogSink, level: LogLevel = logLevelFromEnv()): Logger {
  const on = (l: LogLevel) => RANK[l] <= RANK[level];
  return {
    debug: (message) => {
      if (on('debug')) sink(message);
    },
    info: (message) => {
      if (on('info')) sink(message);
    },
    error: (message, err) => {
      const detail = err instanceof Error ? (err.stack ?? err.message) : err === undefined ? '' : String(err);
      sink(detail ? `${message}: ${scrub(detail)}` : message);
    },
  };
}

const UUID = /\b[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\b/gi;
const IPV4 = /\b(?:\d{1,3}\.){3}\d{1,3}\b/g;
// Two or more hex groups joined by colons, with or without '::' (also ::ffff:1.2.3.4 once IPv4 is gone).
const IPV6 = /(?:\b[0-9a-f]{1,4}|(?<![\w:]))(?::[0-9a-f]{0,4}){2,7}\b/gi;
// Long base64/hex runs: keys, guids in other forms, ciphertext fragments. File paths in
// stacks match the character class too; they have few digits and many slashes.
const BLOB = /[A-Za-z0-9+/_-]{32,}={0,2}/g;
const looksRandom = (m: string) => (m.match(/\d/g)?.length ?? 0) >= 3 && (m.match(/\//g)?.length ?? 0) <= 3;

/**
 * Error text may quote what failed: an account or envelope id (UUIDs), a peer address,
 * a key. None of it helps an operator more than it would help whoever reads the logs later.
 */
export function scrub(text: string): string {
  return text.replace(UUID, '<id>').replace(IPV4, '<addr>').replace(IPV6, (m) => (/\d/.test(m) || m.includes('::') ? '<addr>' : m)).replace(BLOB, (m) => (looksRandom(m) ? '<data>' : m));
}

export const stderrSink: LogSink = (line) => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};
