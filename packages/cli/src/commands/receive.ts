import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withSession } from '../session.js';
import { followMessages } from './follow.js';
import { messageJson, messageLine } from './format.js';

export function registerReceiveCommand(program: Command, io: CliIo): void {
  program
    .command('receive')
    .description(
      'fetch and store waiting messages, print them, then keep listening for --wait seconds; ' +
        'edits, deletions and reactions to earlier messages print again, marked "updated:"',
    )
    .option('--wait <seconds>', 'keep listening this long after the backlog is drained', '0')
    .option(
      '--json',
      'one JSON object per line: id, from, device, conversation, direction, timestamp, text; group, attachments, replyTo, reactions, editedAt, deleted when they apply; "update": true on updates',
    )
    .action(async (opts: { wait: string; json?: boolean }, cmd: Command) => {
      const waitMs = Number(opts.wait) * 1000;
      if (!Number.isFinite(waitMs) || waitMs < 0) throw new CliError('--wait must be a number of seconds ≥ 0');
      await withSession(io, cmd, async (session) => {
        const follower = await followMessages(session.client, (m, update, names) => {
          if (opts.json) jsonLine(io.stdout, update ? { ...messageJson(m, names), update: true } : messageJson(m, names));
          else line(io.stdout, update ? `updated: ${messageLine(m, names)}` : messageLine(m, names));
        });
        await session.sync();
        if (waitMs > 0) await new Promise((r) => setTimeout(r, waitMs));
        await follower.flush();
      });
    });
}
