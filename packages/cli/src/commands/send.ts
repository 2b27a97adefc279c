import { access, constants } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Client } from '@kluis/sdk';
import { CliError, UsageError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { CONVERSATION_HELP, withSession } from '../session.js';

type FileInput = NonNullable<NonNullable<Parameters<Client['send']>[2]>['files']>[number];

interface SendOptions {
  json?: boolean;
  replyTo?: string;
  file?: string[];
  voiceNote?: boolean;
  duration?: string;
}

const collect = (value: string, previous: string[] | undefined) => [...(previous ?? []), value];

async function readableFiles(paths: string[]): Promise<void> {
  for (const p of paths) {
    try {
      await access(p, constants.R_OK);
    } catch {
      throw new CliError(`cannot read ${p}: no such file, or no permission`, 'FILE_UNREADABLE');
    }
  }
}

function durationMs(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const s = Number(text);
  if (!Number.isFinite(s) || s <= 0 || s > 24 * 3600) throw new UsageError(`--duration takes seconds (e.g. 12.5), not "${text}"`);
  return Math.round(s * 1000);
}

export function registerSendCommand(program: Command, io: CliIo): void {
  program
    .command('send <conversation> [text...]')
    .description('send an end-to-end encrypted message (text and/or files); returns once the server has stored it for every device')
    .option('--reply-to <id>', 'quote a message: its id or a unique prefix of 6+ characters (see "kluis history")')
    .option('--file <path>', 'attach a file (repeat for several); text is then optional', collect)
    .option('--voice-note', 'the attached file(s) are voice notes (audio)')
    .option('--duration <seconds>', 'length of the voice note, shown to the receiver')
    .option('--json', 'print JSON: to, conversation, id, timestamp')
    .addHelpText(
      'after',
      `\nCONVERSATION: ${CONVERSATION_HELP}.\n\nExamples:\n` +
        '  kluis send bob "hello bob"\n' +
        '  kluis send "#Book club" "see you thursday"\n' +
        '  kluis send bob --file photo.jpg "from the trip"\n' +
        '  kluis send bob --file memo.ogg --voice-note --duration 12\n' +
        '  kluis send bob --reply-to 1a2b3c4d "agreed"',
    )
    .action(async (to: string, words: string[], opts: SendOptions, cmd: Command) => {
      const text = words.join(' ');
      const paths = opts.file ?? [];
      if (!text && paths.length === 0) throw new UsageError('nothing to send: give TEXT, or --file PATH');
      if (opts.voiceNote && paths.length === 0) throw new UsageError('--voice-note marks attached files: add --file PATH');
      if (opts.duration !== undefined && !opts.voiceNote) throw new UsageError('--duration is for voice notes: add --voice-note');
      const ms = durationMs(opts.duration);
      await readableFiles(paths);
      await withSession(io, cmd, async (session) => {
        const { client } = session;
        const target = await session.conversation(to);
        let replyTo: string | undefined;
        if (opts.replyTo !== undefined) {
          const quoted = await session.message(opts.replyTo);
          if (quoted.conversation !== target.conversation) {
            throw new UsageError(`message ${opts.replyTo} is in another conversation (${quoted.conversation}), not in ${target.label}`);
          }
          replyTo = quoted.id;
        }
        const files: FileInput[] = paths.map((path) => ({
          path,
          ...(opts.voiceNote ? { voiceNote: true } : {}),
          ...(ms !== undefined ? { durationMs: ms } : {}),
        }));
        const sent = await client
          .send(target.conversation, text || undefined, {
            ...(replyTo ? { replyTo } : {}),
            ...(files.length ? { files } : {}),
          })
          .catch((e: unknown) => session.explainUnknownUser(target, e));
        // The plain-text line stays as it was before groups and files (scripts read it).
        const shown = target.kind === 'direct' ? to : target.label;
        if (opts.json) {
          jsonLine(io.stdout, {
            to: shown,
            conversation: sent.conversation,
            id: sent.id,
            timestamp: sent.timestamp,
            ...(files.length ? { attachments: sent.attachments ?? [] } : {}),
          });
        } else {
          const extra = files.length ? ` with ${files.length} file${files.length > 1 ? 's' : ''}` : '';
          line(io.stdout, `sent to ${shown} (${sent.timestamp})${extra}`);
        }
      });
    });
}
