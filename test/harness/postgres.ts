import { execFile, execFileSync } from 'node:child_process';
import { chmod, chown, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { freePort } from './processes.js';

const run = promisify(execFile);

/** Debian's PostgreSQL 15; the full path because the bin dir is not on PATH. */
export const PG_BIN = process.env.KLUIS_PG_BIN ?? '/usr/lib/postgresql/15/bin';

/*
 * Data dirs of clusters still running. If the test process exits without teardown
 * (a crash, a killed worker), an 'exit' hook stops them synchronously so no postgres
 * outlives the run.
 */
const live = new Set<string>();
let exitHookInstalled = false;
function installExitHook(asRoot: boolean): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  process.once('exit', () => {
    for (const data of live) {
      const stop = [join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
      try {
        if (asRoot) execFileSync('runuser', ['-u', 'postgres', '--', ...stop], { stdio: 'ignore' });
        else execFileSync(stop[0]!, stop.slice(1), { stdio: 'ignore' });
      } catch {
        // Already stopped.
      }
    }
  });
}

export interface PostgresServer {
  /** Connection URL of the test database (trust auth, loopback only). */
  url: string;
  port: number;
  /** A URL for another database on the same server (see createDatabase). */
  urlFor(database: string): string;
  createDatabase(name: string): Promise<string>;
  /** Stops the server (fast shutdown) and deletes its directory. Idempotent. */
  stop(): Promise<void>;
  /** For outage tests: stop without deleting, then start again on the same port. */
  pause(): Promise<void>;
  resume(): Promise<void>;
}

/**
 * A throwaway PostgreSQL cluster: initdb into a temp dir, listening on a random
 * loopback port with its socket in that dir. PostgreSQL refuses to run as root, so
 * when we are root every step runs as the postgres user via runuser.
 */
export async function startPostgres(opts: { database?: string } = {}): Promise<PostgresServer> {
  const dir = await mkdtemp(join(tmpdir(), 'kluis-pg-'));
  const data = join(dir, 'data');
  const log = join(dir, 'log');
  const asRoot = userInfo().uid === 0;
  installExitHook(asRoot);
  const pgCommand = async (bin: string, args: string[]) => {
    const file = join(PG_BIN, bin);
    return asRoot ? run('runuser', ['-u', 'postgres', '--', file, ...args]) : run(file, args);
  };
  if (asRoot) {
    // The temp dir is root's and 0700: the postgres user must own it to write the cluster.
    const { stdout } = await run('id', ['-u', 'postgres']);
    const { stdout: gid } = await run('id', ['-g', 'postgres']);
    await chown(dir, Number(stdout.trim()), Number(gid.trim()));
    await chmod(dir, 0o700);
  }

  let port = 0;
  let running = false;
  let removed = false;
  const start = async () => {
    await pgCommand('pg_ctl', [
      '-D', data, '-l', log, '-w', '-t', '30',
      // fsync off: a test cluster is thrown away, durability across power loss is moot.
      '-o', `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200`,
      'start',
    ]);
    running = true;
    live.add(data);
  };
  const stopServer = async () => {
    if (!running) return;
    running = false;
    await pgCommand('pg_ctl', ['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
    live.delete(data);
  };
  const remove = async () => {
    if (removed) return;
    removed = true;
    if (!process.env.KLUIS_KEEP_TEST_DIRS) await rm(dir, { recursive: true, force: true });
  };

  try {
    // C locale: text ordering must not depend on the machine's locale.
    await pgCommand('initdb', ['-D', data, '-U', 'postgres', '--auth=trust', '--no-sync', '-E', 'UTF8', '--locale=C']);
    // Another process may take a port between freePort() and bind; retry a few times.
    for (let attempt = 0; ; attempt++) {
      port = await freePort();
      try {
        await start();
        break;
      } catch (err) {
        if (attempt >= 3) throw err;
      }
    }
  } catch (err) {
    const logText = await readFile(log, 'utf8').catch(() => '');
    await stopServer().catch(() => {});
    await remove();
    throw new Error(`starting PostgreSQL failed: ${(err as Error).message}\n${logText}`, { cause: err });
  }

  const urlFor = (database: string) => `postgres://postgres@127.0.0.1:${port}/${database}`;
  const createDatabase = async (name: string) => {
    if (!/^[a-z_][a-z0-9_]*$/.test(name)) throw new Error(`bad database name ${name}`);
    await pgCommand('psql', ['-h', dir, '-p', String(port), '-U', 'postgres', '-d', 'postgres', '-v', 'ON_ERROR_STOP=1', '-qc', `create database ${name}`]);
    return urlFor(name);
  };
  const database = opts.database ?? 'kluis';
  let url: string;
  try {
    url = await createDatabase(database);
  } catch (err) {
    await stopServer().catch(() => {});
    await remove();
    throw err;
  }

  let stopping: Promise<void> | undefined;
  return {
    url,
    port,
    urlFor,
    createDatabase,
    stop: () =>
      (stopping ??= (async () => {
        try {
          await stopServer();
        } finally {
          await remove();
        }
      })()),
    pause: stopServer,
    resume: start,
  };
}
