import type { Command } from 'commander';
// Only the config module at load time: the whole server (Fastify, Kysely, NATS) is loaded by
// `kluis server` itself, so every other command starts without it.
import { loadServerConfig, serverConfigHelp } from '@kluis/server/config';
import type { CliIo } from '../io.js';
import { line } from '../io.js';

/** Turns "--data" / "--data <dir>" into commander's attribute name ("data", "envelopeTtlDays"). */
function attributeName(flag: string): string {
  return flag
    .replace(/^--/, '')
    .split(/\s/)[0]!
    .replace(/-([a-z])/g, (_, c: string) => c.toUpperCase());
}

/** What a flag's value is, for --help: `--data <dir>`, `--port <port>`, `--envelope-ttl-days <days>`. */
export function placeholderFor(flag: string, dflt: string | undefined): string {
  const name = flag.replace(/^--/, '');
  const byName: Record<string, string> = {
    data: 'dir',
    host: 'address',
    port: 'port',
    bus: 'urls',
    database: 'url',
    region: 'name',
    'node-name': 'name',
    'public-url': 'url',
    'turn-urls': 'urls',
    'sqlite-sync': 'full|normal',
    'attachment-disk-reserve': 'N%|MiB',
    'rate-limit': 'rules',
    'max-connections': 'n',
  };
  if (byName[name]) return byName[name]!;
  const bySuffix: Array<[RegExp, string]> = [
    [/-days$/, 'days'],
    [/-seconds$/, 'seconds'],
    [/-kib$/, 'KiB'],
    [/-mib(-per-day)?$/, 'MiB'],
    [/-bytes$/, 'bytes'],
    [/-dir$/, 'dir'],
    [/-(file|certificate)$/, 'file'],
    [/-url$/, 'url'],
  ];
  for (const [re, p] of bySuffix) if (re.test(name)) return p;
  if (dflt === 'on' || dflt === 'off') return 'on|off';
  if (dflt !== undefined && /^\d+$/.test(dflt)) return 'n';
  return 'value';
}

/** " (default: in-process)", not " (default (in-process))". */
export function defaultText(dflt: string | undefined): string {
  return dflt === undefined ? '' : ` (default: ${dflt.replace(/^\((.*)\)$/, '$1')})`;
}

export function registerServerCommand(program: Command, io: CliIo): void {
  const cmd = program
    .command('server')
    .description('run a kluis server (embedded default: SQLite in --data, in-process bus)');
  for (const opt of serverConfigHelp) {
    const flag = opt.flag.includes('<') ? opt.flag : `${opt.flag} <${placeholderFor(opt.flag, opt.default)}>`;
    const env = opt.env ? ` [env ${opt.env}]` : '';
    cmd.option(flag, `${opt.description}${env}${defaultText(opt.default)}`);
  }
  cmd.action(async (opts: Record<string, string | undefined>) => {
    const flags: Record<string, string | undefined> = {};
    for (const opt of serverConfigHelp) flags[attributeName(opt.flag)] = opts[attributeName(opt.flag)];
    const config = loadServerConfig({ flags, env: io.env });
    const { startServer } = await import('@kluis/server');
    const server = await startServer(config, { log: (l) => line(io.stderr, l) });
    line(io.stdout, `url: ${server.url}`);
    line(io.stdout, `console: ${server.url}/console`);
    if (server.firstStart) {
      line(io.stdout, `operator-token-file: ${server.firstStart.operatorTokenFile}`);
      line(io.stdout, `invite: ${server.firstStart.invite}`);
    } else {
      line(io.stderr, 'mint invites with: kluis admin invite create --data ' + config.dataDir);
    }
    await new Promise<void>((resolve) => {
      let stopping = false;
      const stop = (signal: string) => {
        if (stopping) return;
        stopping = true;
        line(io.stderr, `${signal}: draining and shutting down…`);
        // Drain: clients move to other nodes, accepted sends commit, bounded by --drain-timeout-seconds.
        server.drain().then(({ timedOut }) => {
          // Exit even if a cut connection left a handle behind; a drain is a normal stop (0).
          if (timedOut) setTimeout(() => process.exit(process.exitCode ?? 0), 500).unref();
          resolve();
        }, (err: unknown) => {
          line(io.stderr, `error while shutting down: ${(err as Error).message}`);
          process.exitCode = 1;
          resolve();
        });
      };
      process.once('SIGTERM', () => stop('SIGTERM'));
      process.once('SIGINT', () => stop('SIGINT'));
    });
  });
}
