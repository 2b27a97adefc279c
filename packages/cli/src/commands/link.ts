import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { line } from '../io.js';
import { openClient, withClient } from '../profile.js';

export function registerLinkCommand(program: Command, io: CliIo): void {
  program
    .command('link')
    .description(
      'link a device: without --code, create a link code on the primary device and approve the new device; with --code, link this machine as a new device',
    )
    .option('--code <code>', 'the link code shown on the primary device (new device side)')
    .option('--server <url>', 'server URL (new device side)', io.env.KLUIS_SERVER)
    .option('--device-name <name>', 'a name for the new device (new device side)', 'linked')
    .option('--yes', 'approve without asking to compare the verification number (primary side)')
    .option('--timeout <seconds>', 'how long to wait for the other device', '600')
    .action(
      async (
        opts: { code?: string; server?: string; deviceName: string; yes?: boolean; timeout: string },
        cmd: Command,
      ) => {
        const global = cmd.optsWithGlobals<{ profile?: string }>();
        const timeoutMs = Number(opts.timeout) * 1000;
        if (!Number.isFinite(timeoutMs) || timeoutMs <= 0) throw new CliError('--timeout must be a positive number of seconds');
        if (opts.code) {
          if (!opts.server) throw new CliError('--server URL is needed with --code (or set KLUIS_SERVER)');
          const client = await openClient(io, global, { requireRegistered: false, isNew: true });
          try {
            line(io.stderr, 'asking the primary device to approve this one…');
            await client.link({
              serverUrl: opts.server,
              code: opts.code,
              deviceName: opts.deviceName,
              timeoutMs,
              onVerification: (v) => {
                line(io.stdout, `verification: ${v}`);
                line(io.stderr, 'Check that your primary device shows the same number, then approve it there.');
              },
            });
            const a = client.account!;
            line(io.stdout, `linked as ${a.username} (device ${a.deviceId})`);
          } finally {
            await client.close();
          }
          return;
        }
        await withClient(io, global, async (client) => {
          const { code, expiresAt } = await client.devices.createLinkCode();
          line(io.stdout, `link code: ${code}`);
          line(io.stderr, `On the new device run: kluis link --code ${code} --server ${client.account!.serverUrl}`);
          line(io.stderr, `The code expires at ${new Date(expiresAt).toISOString()}. Waiting for the new device…`);
          const { deviceId } = await client.devices.approveLink(code, {
            timeoutMs,
            confirm: async (verification) => {
              line(io.stdout, `verification: ${verification}`);
              if (opts.yes) return true;
              if (!io.prompt) throw new CliError('cannot ask for approval without a terminal: compare the numbers and use --yes');
              const answer = await io.prompt('Does the new device show the same number? [y/N] ');
              return /^y(es)?$/i.test(answer.trim());
            },
          });
          line(io.stdout, `linked device ${deviceId}`);
        });
      },
    );
}
