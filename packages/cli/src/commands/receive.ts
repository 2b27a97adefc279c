import type { Command } from 'commander';
import type { StoredMessage } from '@kluis/sdk';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withClient } from '../profile.js';
import { messageJson, messageLine } from './format.js';

export function registerReceiveCommand(program: Command, io: CliIo): void {
  program
    .command('receive')
    .description('fetch and store waiting messages, print them, then keep listening for --wait seconds')
    .option('--wait <seconds>', 'keep listening this long after the backlog is drained', '0')
    .option('--json', 'one JSON object per line: from, device, timestamp, text')
    .action(async (opts: { wait: string; json?: boolean }, cmd: Command) => {
      const waitMs = Number(opts.wait) * 1000;
      if (!Number.isFinite(waitMs) || waitMs < 0) throw new CliError('--wait must be a number of seconds ≥ 0');
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const print = (m: StoredMessage) => (opts.json ? jsonLine(io.stdout, messageJson(m)) : line(io.stdout, messageLine(m)));
        client.on('message', print);
        client.on('identity-changed', ({ username }) =>
          line(io.stderr, `the safety number with ${username} changed: compare it ("kluis safety-number ${username}") and run "kluis trust ${username}"`),
        );
        const drained = new Promise<void>((resolve) => client.once('queue-empty', () => resolve()));
        await client.connect();
        await drained;
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
      });
    });
}
