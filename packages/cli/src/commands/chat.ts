import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { KluisError } from '@kluis/sdk/errors';
import type { CliIo } from '../io.js';
import { line } from '../io.js';
import { CONVERSATION_HELP, withSession } from '../session.js';
import { followMessages } from './follow.js';
import { messageLine } from './format.js';

export function registerChatCommand(program: Command, io: CliIo): void {
  program
    .command('chat <conversation>')
    .description('interactive chat with a user or a group: type a line and press Enter to send; /quit to leave. Shown messages count as read')
    .addHelpText('after', `\nCONVERSATION: ${CONVERSATION_HELP}.`)
    .action(async (conversation: string, _opts: unknown, cmd: Command) => {
      await withSession(io, cmd, async (session) => {
        const { client } = session;
        const target = await session.conversation(conversation);
        const peer = target.conversation;
        // Read receipts go out for what this window shows; a failure only costs a receipt.
        let reading = Promise.resolve();
        const markRead = () => {
          reading = reading.then(() => client.conversations.markRead(peer).then(() => {})).catch((e: unknown) => line(io.stderr, `* could not mark read: ${String(e)}`));
        };
        const follower = await followMessages(
          client,
          (m, update, book) => {
            line(io.stdout, update ? `updated: ${messageLine(m, book)}` : messageLine(m, book));
            if (!update && m.direction === 'incoming') markRead();
          },
          (m) => m.conversation === peer,
        );
        for (const m of await client.messages.list({ conversation: peer, limit: 20 })) line(io.stdout, messageLine(m, follower.names));
        client.on('connection', ({ state }) => {
          if (state !== 'connected') line(io.stderr, `* connection ${state}`);
        });
        client.on('group-updated', (g) => {
          if (g.conversation === peer) target.label = g.title;
        });
        await client.connect();
        markRead();
        line(io.stderr, `* chatting with ${target.label}; /quit to leave`);
        const rl = createInterface({ input: process.stdin, terminal: false });
        for await (const input of rl) {
          const text = input.trim();
          if (!text) continue;
          if (text === '/quit') break;
          try {
            await client.send(peer, text);
          } catch (err) {
            line(io.stderr, `* not sent: ${err instanceof KluisError ? err.message : String(err)}`);
          }
        }
        rl.close();
        await follower.flush();
        await reading;
      });
    });
}
