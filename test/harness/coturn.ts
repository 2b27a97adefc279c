import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes, randomInt } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './processes.js';

/** Debian's coturn (`apt-get install -y coturn`); override for a build elsewhere. */
export const TURNSERVER_BIN = process.env.KLUIS_TURNSERVER_BIN ?? 'turnserver';
export const COTURN_REALM = 'kluis.test';
/** Relay ports per instance: plenty for a test, small enough that random ranges rarely overlap. */
const RELAY_PORTS = 200;

export interface Coturn {
  /** turn:127.0.0.1:PORT, no transport parameter. */
  url: string;
  /** The same port as ?transport=udp and ?transport=tcp: the form `--turn-urls` takes (comma-joined). */
  urls: string[];
  /** coturn's static-auth-secret (use-auth-secret, the TURN REST API scheme). */
  secret: string;
  /** A 0600 file holding `secret`: the form `--turn-secret-file` / KLUIS_TURN_SECRET_FILE takes. */
  secretFile: string;
  realm: string;
  port: number;
  /** The relay (allocation) port range, inclusive. */
  minPort: number;
  maxPort: number;
  pid: number;
  logFile: string;
  /** SIGTERM, SIGKILL after 3 s; removes the temp dir. Idempotent. */
  stop(): Promise<void>;
}

export interface CoturnOptions {
  realm?: string;
  secret?: string;
  /** Appended to the command line (e.g. `--stale-nonce=5`). */
  extraArgs?: string[];
  readyTimeoutMs?: number;
}

/** Children still running, killed synchronously if the test process exits without teardown. */
const live = new Set<ChildProcess>();
let exitHookInstalled = false;

/**
 * A coturn on loopback with no config file (`-n`, so /etc/turnserver.conf is never read),
 * TURN REST API auth, plain UDP and TCP only. Ready means its TCP listener accepts a
 * connection; the UDP listener is opened by the same thread just before, and a UDP client
 * retransmits anyway.
 */
export async function startCoturn(opts: CoturnOptions = {}): Promise<Coturn> {
  if (!exitHookInstalled) {
    exitHookInstalled = true;
    process.once('exit', () => {
      for (const child of live) child.kill('SIGKILL');
    });
  }
  const realm = opts.realm ?? COTURN_REALM;
  const secret = opts.secret ?? randomBytes(16).toString('hex');
  const dir = await mkdtemp(join(tmpdir(), 'kluis-coturn-'));
  const secretFile = join(dir, 'turn-secret');
  const logFile = join(dir, 'turn.log');
  await writeFile(secretFile, `${secret}\n`, { mode: 0o600 });
  const port = await freePort();
  // Random, so that test files running in parallel rarely hand out the same relay ports.
  const minPort = randomInt(40_000, 65_535 - RELAY_PORTS);
  const maxPort = minPort + RELAY_PORTS - 1;
  const args = [
    '-n',
    '--listening-ip=127.0.0.1',
    '--relay-ip=127.0.0.1',
    `--listening-port=${port}`,
    `--min-port=${minPort}`,
    `--max-port=${maxPort}`,
    '--use-auth-secret',
    `--static-auth-secret=${secret}`,
    `--realm=${realm}`,
    // Tests relay to peers on 127.0.0.1; production configs must not (deploy/coturn/).
    '--allow-loopback-peers',
    '--no-cli',
    '--no-tls',
    '--no-dtls',
    '--no-rfc5780',
    '--fingerprint',
    '--no-software-attribute',
    '--relay-threads=1',
    `--log-file=${logFile}`,
    '--simple-log',
    '--no-stdout-log',
    // Its defaults are /var/tmp/turnserver.pid and /var/lib/turn/turndb, shared by every instance.
    `--pidfile=${join(dir, 'turnserver.pid')}`,
    `--userdb=${join(dir, 'turndb')}`,
    ...(opts.extraArgs ?? []),
  ];

  let output = '';
  let spawnError: Error | undefined;
  const child = spawn(TURNSERVER_BIN, args, { cwd: dir, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.stderr!.setEncoding('utf8').on('data', (d: string) => (output += d));
  child.once('error', (err) => (spawnError = err));
  live.add(child);
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  void exited.then(() => live.delete(child));

  const kill = async (): Promise<void> => {
    if (child.exitCode === null && child.signalCode === null && !spawnError) {
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 3_000);
      await exited;
      clearTimeout(timer);
    }
  };
  const cleanUp = async (): Promise<void> => {
    await kill();
    if (!process.env.KLUIS_KEEP_TEST_DIRS) await rm(dir, { recursive: true, force: true });
  };

  try {
    await waitListening(port, opts.readyTimeoutMs ?? 10_000, () => {
      if (spawnError) {
        const hint = (spawnError as NodeJS.ErrnoException).code === 'ENOENT' ? ' (apt-get install -y coturn, or set KLUIS_TURNSERVER_BIN)' : '';
        return `cannot run ${TURNSERVER_BIN}: ${spawnError.message}${hint}`;
      }
      if (child.exitCode !== null || child.signalCode !== null) return `turnserver exited (${child.exitCode ?? child.signalCode})`;
      return undefined;
    });
  } catch (err) {
    await kill();
    const tail = await logTail(logFile);
    await cleanUp();
    // Its output is mostly the usage text after a bad flag: the first lines say which.
    throw new Error(`${(err as Error).message}\n--- turn.log (tail) ---\n${tail}\n--- output ---\n${output.slice(0, 2_000)}`);
  }

  let stopping: Promise<void> | undefined;
  const url = `turn:127.0.0.1:${port}`;
  return {
    url,
    urls: [`${url}?transport=udp`, `${url}?transport=tcp`],
    secret,
    secretFile,
    realm,
    port,
    minPort,
    maxPort,
    pid: child.pid!,
    logFile,
    stop: () => (stopping ??= cleanUp()),
  };
}

/** Polls a TCP connect to the listener; `dead` names why waiting is pointless (the process is gone). */
async function waitListening(port: number, timeoutMs: number, dead: () => string | undefined): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let last = 'not tried';
  for (let attempt = 0; attempt < 10_000; attempt++) {
    const why = dead();
    if (why) throw new Error(why);
    try {
      await tcpProbe(port, 500);
      // It may have died right after accepting (e.g. a config error caught late).
      const after = dead();
      if (after) throw new Error(after);
      return;
    } catch (err) {
      last = (err as Error).message;
    }
    if (Date.now() > deadline) throw new Error(`turnserver not listening on 127.0.0.1:${port} after ${timeoutMs} ms (${last})`);
    await new Promise((r) => setTimeout(r, 50));
  }
  throw new Error(`turnserver not listening on 127.0.0.1:${port} (${last})`);
}

function tcpProbe(port: number, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const socket = connect({ host: '127.0.0.1', port });
    socket.setTimeout(timeoutMs, () => socket.destroy(new Error('connect timed out')));
    socket.once('connect', () => {
      socket.destroy();
      resolve();
    });
    socket.once('error', reject);
  });
}

async function logTail(file: string, lines = 40): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).split('\n').slice(-lines).join('\n');
  } catch (err) {
    return `(no log: ${(err as Error).message})`;
  }
}
