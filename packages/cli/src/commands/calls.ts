import type { Command } from 'commander';
// The module, not the SDK's index: this loads with every command, `kluis --help` included.
import { formatDuration } from '@kluis/sdk/conversation-events';
import type { CallEntry } from '@kluis/sdk';
import { UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withSession } from '../session.js';
import { NameBook, timeStamp } from './format.js';

const MAX_LIMIT = 1000;
/** Wider labels are not padded: one long group title should not push every line right. */
const MAX_LABEL_WIDTH = 24;

function limitOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > MAX_LIMIT) throw new UsageError(`--limit takes a number from 1 to ${MAX_LIMIT}, not "${text}"`);
  return n;
}

/** A group's title, else a short form of its id: the group state may not have arrived yet. */
function label(c: CallEntry, names: NameBook): string {
  if (!c.group) return c.conversation;
  return names.groupTitle(c.conversation) ?? `${c.conversation.slice(0, 10)}…`;
}

function outcomeText(c: CallEntry): string {
  return c.outcome === 'ended' ? `ended ${formatDuration(c.seconds)}` : c.outcome;
}

export function registerCallsCommand(program: Command, io: CliIo): void {
  program
    .command('calls')
    .description('list calls made and received on this device, newest first (kluis has no media here: calls run in `kluis app`)')
    .option('--limit <n>', `show the last N calls (1 to ${MAX_LIMIT})`, '50')
    .option('--json', 'one JSON object per line: id, conversation, direction, media, outcome, seconds, by, at (ISO time), group')
    .addHelpText('after', '\nCall signals still waiting on the server are fetched first, so a call missed while offline shows up.')
    .action(async (opts: { limit: string; json?: boolean }, cmd: Command) => {
      const limit = limitOf(opts.limit);
      await withSession(io, cmd, async (session) => {
        const { client } = session;
        await session.sync();
        const list = client.calls.history({ limit });
        if (opts.json) {
          for (const c of list) {
            const { id, conversation, direction, media, outcome, seconds, by, at, group } = c;
            jsonLine(io.stdout, { id, conversation, direction, media, outcome, seconds, by, at: new Date(at).toISOString(), group });
          }
          return;
        }
        if (list.length === 0) return line(io.stderr, 'no calls yet');
        const names = await NameBook.load(client);
        const labels = list.map((c) => label(c, names));
        const width = Math.min(MAX_LABEL_WIDTH, Math.max(...labels.map((l) => l.length)));
        list.forEach((c, i) => {
          const arrow = c.direction === 'incoming' ? '↙' : '↗';
          const time = timeStamp(c.at).slice(0, 16);
          line(io.stdout, `${time}  ${arrow} ${c.direction} ${c.media}  ${labels[i]!.padEnd(width)}  ${outcomeText(c)}`);
        });
      });
    });
}
