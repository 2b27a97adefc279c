import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withClient } from '../profile.js';

export function registerSendCommand(program: Command, io: CliIo): void {
  program
    .command('send <username> <text...>')
    .description('send an end-to-end encrypted message; returns once the server has stored it for every device')
    .option('--json', 'print JSON')
    .action(async (username: string, words: string[], opts: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const { timestamp } = await client.send(username, words.join(' '));
        if (opts.json) jsonLine(io.stdout, { to: username, timestamp });
        else line(io.stdout, `sent to ${username} (${timestamp})`);
      });
    });
}
