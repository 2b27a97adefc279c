import type { Command } from 'commander';
import { formatTimer, parseSwitch, parseTimer, TIMER_HELP } from '../durations.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { CONVERSATION_HELP, username, withSession } from '../session.js';

export function registerSettingsCommands(program: Command, io: CliIo): void {
  program
    .command('timer <conversation> <duration>')
    .description('set disappearing messages for everyone in a conversation; the timer starts when a message is read')
    .addHelpText('after', `\nCONVERSATION: ${CONVERSATION_HELP}.\nDURATION: ${TIMER_HELP}.`)
    .action(async (conversation: string, duration: string, _opts: unknown, cmd: Command) => {
      // Checked before opening the profile: a typo should not cost a passphrase prompt.
      const seconds = parseTimer(duration);
      await withSession(io, cmd, async (session) => {
        const target = await session.conversation(conversation);
        if (target.kind === 'group') await session.sync(); // group changes build on the latest state
        await session.client.conversations.setTimer(target.conversation, seconds).catch((e: unknown) => session.explainUnknownUser(target, e));
        line(io.stdout, seconds ? `messages in ${target.label} now disappear ${formatTimer(seconds)} after reading` : `disappearing messages are off in ${target.label}`);
      });
    });

  program
    .command('settings')
    .description('show or change your settings (synced to your other devices)')
    .option('--read-receipts <on|off>', 'tell senders when you have read their messages')
    .option('--default-timer <duration>', `disappearing-message timer for new conversations: ${TIMER_HELP}`)
    .option('--json', 'print JSON: { readReceipts, defaultExpireTimer (seconds) }')
    .action(async (opts: { readReceipts?: string; defaultTimer?: string; json?: boolean }, cmd: Command) => {
      const patch: { readReceipts?: boolean; defaultExpireTimer?: number } = {};
      if (opts.readReceipts !== undefined) patch.readReceipts = parseSwitch(opts.readReceipts, '--read-receipts');
      if (opts.defaultTimer !== undefined) patch.defaultExpireTimer = parseTimer(opts.defaultTimer, 'a default timer');
      await withSession(io, cmd, async ({ client }) => {
        const s = Object.keys(patch).length > 0 ? await client.settings.set(patch) : await client.settings.get();
        if (opts.json) return jsonLine(io.stdout, s);
        line(io.stdout, `read receipts:  ${s.readReceipts ? 'on' : 'off'}`);
        line(io.stdout, `default timer:  ${formatTimer(s.defaultExpireTimer)}`);
      });
    });

  program
    .command('block <username>')
    .description("block a user: their messages are dropped, and your profile key changes so they lose your name and avatar")
    .action(async (user: string, _opts: unknown, cmd: Command) => {
      const u = username(user);
      await withSession(io, cmd, async ({ client }) => {
        await client.contacts.block(u);
        line(io.stdout, `blocked ${u}`);
      });
    });

  program
    .command('unblock <username>')
    .description('unblock a user: their new messages arrive again')
    .action(async (user: string, _opts: unknown, cmd: Command) => {
      const u = username(user);
      await withSession(io, cmd, async ({ client }) => {
        await client.contacts.unblock(u);
        line(io.stdout, `unblocked ${u}`);
      });
    });
}
