import type { Command } from 'commander';
import type { CliIo } from '../io.js';
import { line } from '../io.js';
import { openClient } from '../profile.js';

export function registerRegisterCommand(program: Command, io: CliIo): void {
  program
    .command('register')
    .description('create an account with an invite code (this machine becomes its primary device)')
    .requiredOption('--server <url>', 'server URL, e.g. http://127.0.0.1:8470', io.env.KLUIS_SERVER)
    .requiredOption('--invite <code>', 'invite code (dashes and case do not matter)')
    .requiredOption('--username <name>', '3-32 characters of a-z 0-9 _ .')
    .option('--device-name <name>', 'a name for this device, readable only by your own devices', 'primary')
    .option('--trust-root <key>', "the operator's sealed-sender trust root public key (default: the server's, trusted on first use)", io.env.KLUIS_TRUST_ROOT)
    .action(async (opts: { server: string; invite: string; username: string; deviceName: string; trustRoot?: string }, cmd: Command) => {
      const global = cmd.optsWithGlobals<{ profile?: string }>();
      const client = await openClient(io, global, { requireRegistered: false, isNew: true });
      try {
        line(io.stderr, 'generating keys and registering…');
        await client.register({
          serverUrl: opts.server,
          inviteCode: opts.invite,
          username: opts.username,
          deviceName: opts.deviceName,
          ...(opts.trustRoot ? { trustRoot: opts.trustRoot } : {}),
        });
        const a = client.account!;
        line(io.stdout, `registered ${a.username} (device ${a.deviceId}) on ${a.serverUrl}`);
      } finally {
        await client.close();
      }
    });

  program
    .command('reregister')
    .description('start over with a new identity key on the primary device (contacts will see a safety-number change; linked devices are removed)')
    .option('--yes', 'do not ask for confirmation')
    .action(async (opts: { yes?: boolean }, cmd: Command) => {
      const global = cmd.optsWithGlobals<{ profile?: string }>();
      if (!opts.yes) {
        const answer = io.prompt ? await io.prompt('This removes all linked devices and changes your safety numbers. Continue? [y/N] ') : '';
        if (!/^y(es)?$/i.test(answer.trim())) {
          line(io.stderr, 'cancelled');
          return;
        }
      }
      const client = await openClient(io, global, { requireRegistered: true });
      try {
        await client.reregister();
        line(io.stdout, `re-registered ${client.account!.username} with a new identity key`);
      } finally {
        await client.close();
      }
    });
}
