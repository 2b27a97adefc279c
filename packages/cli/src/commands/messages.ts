import { existsSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import type { Command } from 'commander';
import { KluisError, SdkErrorCode } from '@kluis/sdk/errors';
import { CliError, UsageError } from '../errors.js';
import { formatBytes } from '../durations.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withSession } from '../session.js';

const ID_HELP = 'ID: a message id from "kluis history CONV" (or --json output); a unique prefix of 6+ characters is enough.';

const short = (id: string) => id.slice(0, 8);

/** One emoji (a single grapheme, possibly with modifiers or a ZWJ sequence), as reactions are. */
export function checkEmoji(text: string): string {
  const t = text.trim();
  const graphemes = [...new Intl.Segmenter(undefined, { granularity: 'grapheme' }).segment(t)];
  if (graphemes.length !== 1 || !/\p{Extended_Pictographic}|\p{Regional_Indicator}|\u20e3/u.test(t)) {
    throw new UsageError(`"${text}" is not a single emoji (e.g. 👍 ❤️ 😂)`);
  }
  return t;
}

/** Adds the next step to the SDK's refusal when one is obvious. */
function hint(err: unknown, forEveryone: boolean): never {
  if (err instanceof KluisError && err.code === SdkErrorCode.NotYours && forEveryone) {
    throw new CliError(`${err.message}; to remove someone else's message from this device use --for-me`, err.code);
  }
  throw err;
}

export function registerMessageCommands(program: Command, io: CliIo): void {
  program
    .command('react <id> <emoji>')
    .description('react to a message with an emoji (one reaction per person: a new one replaces yours)')
    .option('--remove', 'take your reaction back')
    .addHelpText('after', `\n${ID_HELP}\nExample: kluis react 1a2b3c4d 👍`)
    .action(async (id: string, emoji: string, opts: { remove?: boolean }, cmd: Command) => {
      const e = checkEmoji(emoji);
      await withSession(io, cmd, async (session) => {
        const m = await session.message(id);
        await session.client.messages.react(m.id, e, { remove: opts.remove ?? false });
        line(io.stdout, opts.remove ? `removed your ${e} from ${short(m.id)}` : `reacted ${e} to ${short(m.id)}`);
      });
    });

  program
    .command('edit <id> <text...>')
    .description('change the text of one of your messages (within 24 hours); receivers keep the earlier versions')
    .addHelpText('after', `\n${ID_HELP}`)
    .action(async (id: string, words: string[], _opts: unknown, cmd: Command) => {
      const text = words.join(' ');
      if (!text.trim()) throw new UsageError('the new text cannot be empty (to remove a message use "kluis delete ID")');
      await withSession(io, cmd, async (session) => {
        const m = await session.message(id);
        await session.client.messages.edit(m.id, text);
        line(io.stdout, `edited ${short(m.id)}`);
      });
    });

  program
    .command('delete <id>')
    .description('delete one of your messages for everyone (within 24 hours): text and files go on every device')
    .option('--for-me', 'delete any message only on your own devices instead')
    .addHelpText('after', `\n${ID_HELP}`)
    .action(async (id: string, opts: { forMe?: boolean }, cmd: Command) => {
      await withSession(io, cmd, async (session) => {
        const m = await session.message(id);
        if (opts.forMe) {
          await session.client.messages.deleteForMe(m.id);
          line(io.stdout, `deleted ${short(m.id)} on your devices`);
        } else {
          await session.client.messages.deleteForEveryone(m.id).catch((e: unknown) => hint(e, true));
          line(io.stdout, `deleted ${short(m.id)} for everyone`);
        }
      });
    });

  program
    .command('download <id> <path>')
    .description("save a message's attachment to PATH (a file, or a directory to keep the sender's file name); fetched and verified first")
    .option('--index <n>', 'which attachment, for messages with several (0 is the first)', '0')
    .option('--force', 'overwrite PATH if it exists')
    .option('--json', 'print JSON: path, size, contentType, fileName')
    .addHelpText('after', `\n${ID_HELP}`)
    .action(async (id: string, path: string, opts: { index: string; force?: boolean; json?: boolean }, cmd: Command) => {
      const index = Number(opts.index);
      if (!Number.isInteger(index) || index < 0) throw new UsageError(`--index takes 0, 1, 2 …, not "${opts.index}"`);
      await withSession(io, cmd, async (session) => {
        // Attachments arrive with their message: fetch what is waiting first.
        await session.sync();
        const m = await session.message(id);
        const atts = m.attachments ?? [];
        if (m.deleted) throw new CliError(`message ${short(m.id)} was deleted; its files are gone`, 'DELETED');
        if (atts.length === 0) throw new UsageError(`message ${short(m.id)} has no attachments`);
        const a = atts[index];
        if (!a) throw new UsageError(`message ${short(m.id)} has ${atts.length} attachment(s): --index 0 to ${atts.length - 1}`);
        let dest = path;
        if (existsSync(path) && statSync(path).isDirectory()) {
          // Never let a sender's file name climb out of the directory.
          const name = a.fileName ? basename(a.fileName).replace(/^\.+/, '') : '';
          dest = join(path, name || `attachment-${short(m.id)}-${index}`);
        }
        if (existsSync(dest) && !opts.force) throw new CliError(`${dest} exists: choose another path or add --force`, 'EXISTS');
        await session.client.messages.saveAttachment(m.id, index, dest);
        if (opts.json) {
          return jsonLine(io.stdout, { path: dest, size: a.size, contentType: a.contentType, ...(a.fileName ? { fileName: a.fileName } : {}) });
        }
        line(io.stdout, `saved ${a.fileName ?? 'attachment'} (${a.contentType}, ${formatBytes(a.size)}) to ${dest}`);
        if (atts.length > 1 && opts.index === '0') line(io.stderr, `note: this message has ${atts.length} attachments; --index N saves another`);
      });
    });
}
