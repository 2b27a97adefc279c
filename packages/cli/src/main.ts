import { CommanderError } from 'commander';
import { KluisError } from '@kluis/sdk/errors';
import { CliError, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { buildProgram } from './program.js';
import { terminalPrompt } from './prompt.js';

export function processIo(): CliIo {
  return {
    stdout: process.stdout,
    stderr: process.stderr,
    env: process.env,
    prompt: process.stdin.isTTY ? terminalPrompt : undefined,
  };
}

/** Runs the CLI; returns the exit code (0 ok, 1 failure, 2 usage). */
export async function main(argv: string[], io: CliIo = processIo()): Promise<number> {
  const program = buildProgram(io);
  try {
    await program.parseAsync(argv);
    return 0;
  } catch (err) {
    if (err instanceof CommanderError) {
      return err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.exitCode === 0 ? 0 : 2;
    }
    if (err instanceof UsageError) {
      io.stderr.write(`error: ${err.message}\n(run with --help for usage)\n`);
      return 2;
    }
    if (err instanceof CliError || err instanceof KluisError) {
      io.stderr.write(`error: ${err.message}\n`);
      return 1;
    }
    io.stderr.write(`error: ${(err as Error)?.stack ?? String(err)}\n`);
    return 1;
  }
}
