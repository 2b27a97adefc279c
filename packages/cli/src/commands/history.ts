import type { Command } from 'commander';
import type { StoredMessage } from '@kluis/sdk';
import { UsageError } from '../errors.js';
import { formatTimer } from '../durations.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { CONVERSATION_HELP, withSession } from '../session.js';
import { messageJson, messageLine, NameBook } from './format.js';

const ID_WIDTH = 8;

function limitOf(text: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 100_000) throw new UsageError(`--limit takes a number from 1 to 100000, not "${text}"`);
  return n;
}

export function registerHistoryCommands(program: Command, io: CliIo): void {
  program
    .command('history [conversation]')
    .description('show the messages of a conversation (or of all), oldest first, with their ids (for react, edit, delete, download, --reply-to)')
    .option('--search <text>', 'only messages containing all these words (full-text search)')
    .option('--limit <n>', 'show the last N messages (or matches)', '50')
    .option('--no-read', 'do not mark the conversation read (no read receipts, disappearing timers do not start)')
    .option('--json', 'one JSON object per line (as "kluis receive --json"), earlier versions of edited messages under "edits"')
    .addHelpText(
      'after',
      `\nCONVERSATION: ${CONVERSATION_HELP}.\n` +
        'Without CONVERSATION: the latest messages of all conversations.\n' +
        'Messages still waiting on the server are fetched first. Showing one conversation marks it read unless --no-read; a search does not.',
    )
    .action(async (conversation: string | undefined, opts: { search?: string; limit: string; read: boolean; json?: boolean }, cmd: Command) => {
      const limit = limitOf(opts.limit);
      if (opts.search !== undefined && !opts.search.trim()) throw new UsageError('--search needs some text');
      await withSession(io, cmd, async (session) => {
        const { client } = session;
        await session.sync();
        const target = conversation === undefined ? undefined : await session.conversation(conversation);
        const where = target ? { conversation: target.conversation } : {};
        const list: StoredMessage[] =
          opts.search !== undefined ? await client.messages.search(opts.search, { ...where, limit }) : await client.messages.list({ ...where, limit });
        const names = await NameBook.load(client, list);
        for (const m of list) {
          if (opts.json) {
            const edits = m.editedAt ? await client.messages.history(m.id) : [];
            jsonLine(io.stdout, edits.length ? { ...messageJson(m, names), edits } : messageJson(m, names));
          } else {
            line(io.stdout, `${m.id.slice(0, ID_WIDTH)}  ${messageLine(m, names)}`);
          }
        }
        if (list.length === 0 && !opts.json) {
          const hint = target ? await session.groupHint(target) : '';
          const what = target ? `with ${target.label}` : 'anywhere';
          const said = opts.search !== undefined ? `no messages matching "${opts.search}" ${what}` : `no messages ${what} yet`;
          line(io.stderr, hint ? `${said} (${hint})` : said);
        }
        if (target && opts.search === undefined && opts.read) await client.conversations.markRead(target.conversation);
      });
    });

  program
    .command('conversations')
    .description('list your conversations, most recent first, with unread counts')
    .option('--json', 'print JSON: an array of { id, kind, title, unread, expireTimer, last }')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withSession(io, cmd, async (session) => {
        const { client } = session;
        await session.sync();
        const list = await client.conversations.list();
        const names = await NameBook.load(client, list.flatMap((c) => (c.last ? [c.last] : [])));
        if (opts.json) {
          return jsonLine(
            io.stdout,
            list.map((c) => ({ ...c, last: c.last ? messageJson(c.last, names) : null })),
          );
        }
        if (list.length === 0) return line(io.stderr, 'no conversations yet: "kluis send USERNAME TEXT" starts one');
        for (const c of list) {
          const where = c.kind === 'group' ? `#${c.title} (${c.id.slice(0, 10)}…)` : c.title;
          const unread = c.unread > 0 ? `  ${c.unread} unread` : '';
          const timer = c.expireTimer ? `  disappearing ${formatTimer(c.expireTimer)}` : '';
          const last = c.last ? `  — ${messageLine(c.last, names)}` : '';
          line(io.stdout, `${where}${unread}${timer}${last}`);
        }
      });
    });

  program
    .command('read <conversation>')
    .description('mark a conversation read: read receipts go out (unless turned off) and disappearing timers start')
    .addHelpText('after', `\nCONVERSATION: ${CONVERSATION_HELP}.`)
    .action(async (conversation: string, _opts: unknown, cmd: Command) => {
      await withSession(io, cmd, async (session) => {
        await session.sync();
        const target = await session.conversation(conversation);
        const n = await session.client.conversations.markRead(target.conversation);
        line(io.stdout, `marked ${n} message${n === 1 ? '' : 's'} read in ${target.label}`);
        if (n === 0) {
          const hint = await session.groupHint(target);
          if (hint) line(io.stderr, `note: ${hint}`);
        }
      });
    });
}
