/**
 * Logging is a line sink on purpose: the server never logs request bodies, IP addresses,
 * user agents or usernames, and a bare sink makes it obvious what each call writes.
 */
export type LogSink = (line: string) => void;

export interface Logger {
  info(message: string): void;
  error(message: string, err?: unknown): void;
}

export function createLogger(sink: LogSink): Logger {
  return {
    info: (message) => sink(message),
    error: (message, err) => {
      const detail = err instanceof Error ? (err.stack ?? err.message) : err === undefined ? '' : String(err);
      sink(detail ? `${message}: ${detail}` : message);
    },
  };
}

export const stderrSink: LogSink = (line) => {
  process.stderr.write(`${new Date().toISOString()} ${line}\n`);
};
