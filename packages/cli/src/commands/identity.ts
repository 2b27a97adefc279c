import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withClient } from '../profile.js';
import { groupDigits } from './format.js';

export function registerIdentityCommands(program: Command, io: CliIo): void {
  program
    .command('safety-number <username>')
    .description('show the 60-digit safety number for you and USERNAME; compare it in person or on a call')
    .option('--json', 'print JSON')
    .action(async (username: string, opts: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const digits = await client.identity.safetyNumber(username);
        if (opts.json) jsonLine(io.stdout, { username, safetyNumber: digits });
        else line(io.stdout, groupDigits(digits));
      });
    });

  program
    .command('trust <username>')
    .description("accept USERNAME's new identity key after a safety-number change, so you can send again")
    .action(async (username: string, _opts: unknown, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        await client.identity.trust(username);
        line(io.stdout, `trusted the current identity key of ${username}`);
      });
    });
}
