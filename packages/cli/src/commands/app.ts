import type { Command } from 'commander';
import { CliError } from '../errors.js';
import type { CliIo } from '../io.js';
import { line } from '../io.js';
import { profileDir } from '../profile.js';

export function registerAppCommand(program: Command, io: CliIo): void {
  program
    .command('app')
    .description('open kluis in your browser: a local host on 127.0.0.1 keeps the keys on this machine and serves the app')
    .option('--port <n>', 'port on 127.0.0.1 (0 = any free port)', '0')
    .action(async (opts: { port: string }, cmd: Command) => {
      const port = Number(opts.port);
      if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError(`--port must be 0-65535, not "${opts.port}"`);
      const name = cmd.optsWithGlobals<{ profile?: string }>().profile ?? 'default';
      // The host (Fastify, the SDK) loads only for this command.
      const { startAppHost } = await import('@kluis/app');
      const host = await startAppHost({
        profileName: name,
        profileDir: profileDir(io, name),
        port,
        ...(io.env.KLUIS_SERVER ? { defaultServerUrl: io.env.KLUIS_SERVER } : {}),
        log: (l) => line(io.stderr, l),
      });
      // The token in the fragment never reaches a server log; anyone with it can use this profile while unlocked.
      line(io.stdout, `app: ${host.url}`);
      line(io.stderr, 'Open that address in your browser (keep it private: it holds this session\'s key). Ctrl+C stops the app.');
      await new Promise<void>((resolve) => {
        const stop = () => void host.close().finally(resolve);
        process.once('SIGTERM', stop);
        process.once('SIGINT', stop);
      });
    });
}
