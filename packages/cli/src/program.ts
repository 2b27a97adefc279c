import { createRequire } from 'node:module';
import { Command } from 'commander';
import type { CliIo } from './io.js';
import { registerAdminCommand } from './commands/admin.js';
import { registerAppCommand } from './commands/app.js';
import { registerCallsCommand } from './commands/calls.js';
import { registerChatCommand } from './commands/chat.js';
import { registerDevicesCommand } from './commands/devices.js';
import { registerGroupCommands } from './commands/group.js';
import { registerHistoryCommands } from './commands/history.js';
import { registerIdentityCommands } from './commands/identity.js';
import { registerLinkCommand } from './commands/link.js';
import { registerMessageCommands } from './commands/messages.js';
import { registerReceiveCommand } from './commands/receive.js';
import { registerRegisterCommand } from './commands/register.js';
import { registerSendCommand } from './commands/send.js';
import { registerServerCommand } from './commands/server.js';
import { registerSettingsCommands } from './commands/settings.js';
import { registerSubscriptionCommands } from './commands/subscription.js';
import { registerProfileCommands } from './commands/user-profile.js';

// ../package.json from src/ and from dist/ alike: the version the workspace is released as.
const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export function buildProgram(io: CliIo): Command {
  const program = new Command('kluis')
    .description('kluis: invite-only, end-to-end encrypted messaging')
    .version(version, '-V, --version', 'print the kluis version')
    .option('--profile <name>', 'which local identity to use (several can live on one machine)', io.env.KLUIS_PROFILE ?? 'default')
    .showHelpAfterError('(run with --help for usage)')
    .configureOutput({
      writeOut: (s) => io.stdout.write(s),
      writeErr: (s) => io.stderr.write(s),
    })
    .exitOverride();
  program.addHelpText(
    'after',
    '\nEnvironment: KLUIS_HOME (profiles, default ~/.kluis), KLUIS_PASSPHRASE (local store), KLUIS_SERVER, KLUIS_PROFILE.',
  );
  registerServerCommand(program, io);
  registerAdminCommand(program, io);
  registerRegisterCommand(program, io);
  registerLinkCommand(program, io);
  registerDevicesCommand(program, io);
  registerSendCommand(program, io);
  registerReceiveCommand(program, io);
  registerChatCommand(program, io);
  registerHistoryCommands(program, io);
  registerCallsCommand(program, io);
  registerMessageCommands(program, io);
  registerGroupCommands(program, io);
  registerSettingsCommands(program, io);
  registerProfileCommands(program, io);
  registerIdentityCommands(program, io);
  registerSubscriptionCommands(program, io);
  registerAppCommand(program, io);
  return program;
}
