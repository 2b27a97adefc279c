import type { Writable } from 'node:stream';

/**
 * Where a command writes. Passed explicitly so tests can run commands in-process and
 * read what they printed.
 */
export interface CliIo {
  stdout: Writable;
  stderr: Writable;
  env: NodeJS.ProcessEnv;
  /** Reads one line from the terminal; `hidden` for passphrases. Undefined when not interactive. */
  prompt?: (question: string, opts?: { hidden?: boolean }) => Promise<string>;
}

export function line(out: Writable, text = ''): void {
  out.write(text + '\n');
}

export function jsonLine(out: Writable, value: unknown): void {
  out.write(JSON.stringify(value) + '\n');
}
