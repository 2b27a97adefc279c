import { createInterface } from 'node:readline';
import type { Command } from 'commander';
import { KluisError } from '@kluis/sdk';
import type { CliIo } from '../io.js';
import { line } from '../io.js';
import { withClient } from '../profile.js';
import { messageLine } from './format.js';

export function registerChatCommand(program: Command, io: CliIo): void {
  program
    .command('chat <username>')
    .description('interactive chat: type a line and press Enter to send; /quit to leave')
    .action(async (username: string, _opts: unknown, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const peer = username.toLowerCase();
        for (const m of await client.messages({ conversation: peer, limit: 20 })) line(io.stdout, messageLine(m));
        client.on('message', (m) => {
          if (m.conversation === peer) line(io.stdout, messageLine(m));
        });
        client.on('identity-changed', (e) => {
          if (e.username === peer) line(io.stderr, `* the safety number with ${peer} changed; sending is blocked until you run "kluis trust ${peer}"`);
        });
        client.on('connection', ({ state }) => {
          if (state !== 'connected') line(io.stderr, `* connection ${state}`);
        });
        await client.connect();
        line(io.stderr, `* chatting with ${peer}; /quit to leave`);
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
      });
    });
}
