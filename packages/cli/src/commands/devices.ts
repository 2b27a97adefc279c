import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { withClient } from '../profile.js';

function day(ms?: number): string {
  return ms === undefined ? '-' : new Date(ms).toISOString().slice(0, 10);
}

export function registerDevicesCommand(program: Command, io: CliIo): void {
  const devices = program
    .command('devices')
    .description('list the devices of your account')
    .option('--json', 'print JSON')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        const list = await client.devices.list();
        if (opts.json) return jsonLine(io.stdout, list);
        const own = client.account!.deviceId;
        for (const d of list) {
          line(
            io.stdout,
            `${String(d.deviceId).padStart(3)}  ${(d.name ?? '').padEnd(20)}  created ${day(d.createdAt)}  last seen ${day(d.lastSeenDay)}${d.deviceId === own ? '  (this device)' : ''}`,
          );
        }
      });
    });

  devices
    .command('remove <id>')
    .description('remove a linked device (from the primary, or a device removing itself)')
    .action(async (id: string, _opts: unknown, cmd: Command) => {
      const deviceId = Number(id);
      if (!Number.isInteger(deviceId) || deviceId < 1) throw new CliError(`"${id}" is not a device id (see "kluis devices")`);
      await withClient(io, cmd.optsWithGlobals(), async (client) => {
        await client.devices.remove(deviceId);
        line(io.stdout, `removed device ${deviceId}`);
      });
    });
}
