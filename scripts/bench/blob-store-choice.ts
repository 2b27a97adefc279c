/**
 * Issue 5: where do attachment blobs live in cluster mode? Measures, on this machine,
 * the two candidates the issue names, with the same blobs:
 *
 *  (a) files in a directory, the way FsBlobStore does it: the body streamed into
 *      `<id>.part` in 256 KiB pieces, fsync, close, rename to `<id>`, fsync the
 *      directory; read back with a 256 KiB read stream;
 *  (b) PostgreSQL bytea chunks: one row per chunk (`blob_chunks(blob_id, seq, data)`,
 *      data STORAGE EXTERNAL since encrypted blobs do not compress), one transaction per
 *      blob, read back one chunk per query in seq order (as a streaming Range read would).
 *      Parameters go out in binary, but results come back in the text format, every byte
 *      as two hex digits: pg 8's binary result mode decodes values as UTF-8 strings first,
 *      which corrupts arbitrary bytes, so hex is what a pg-based store would get.
 *
 * Reported: MiB/s written and read, WAL bytes per MiB stored (pg_current_wal_insert_lsn
 * before and after), table growth, the cost of deleting the blobs again (DELETE + VACUUM, and
 * the WAL that generates), peak RSS of this process (what a kluis node would hold) and
 * of the PostgreSQL backend serving it.
 *
 * PostgreSQL comes from the test harness (initdb into a temp dir as the postgres user,
 * random loopback port, removed afterwards). The harness runs it with fsync,
 * synchronous_commit and full_page_writes off; this script restarts it on the same data
 * dir with the defaults (all on) so both sides pay for durability, unless --test-settings.
 *
 *   node --import tsx scripts/bench/blob-store-choice.ts [--blobs 5] [--mib 20] [--chunks 256,1024]
 */
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createReadStream, readFileSync } from 'node:fs';
import { mkdtemp, open, rename, rm, unlink } from 'node:fs/promises';
import { tmpdir, userInfo } from 'node:os';
import { join } from 'node:path';
import { parseArgs, promisify } from 'node:util';
import pg from 'pg';
import { syncDir } from '../../packages/server/src/blobs/fs-blob-store.js';
import { PG_BIN, startPostgres, type PostgresServer } from '../../test/harness/postgres.js';
import { intOption } from './args.js';
import { rssBytes } from './proc-stats.js';

const run = promisify(execFile);
const MIB = 1024 * 1024;
const KIB = 1024;
/** The size of the pieces a request body arrives in, roughly; also FsBlobStore's read highWaterMark. */
const PIECE = 256 * KIB;

const HELP = `node --import tsx scripts/bench/blob-store-choice.ts [options]

Measures where attachment blobs should live in cluster mode (issue 5): files in a
directory (write + fsync + rename, as FsBlobStore) against PostgreSQL bytea chunks (one
row per chunk, a transaction per blob), on a throwaway PostgreSQL from the test harness.
Prints MiB/s write and read, WAL bytes per MiB stored, delete/VACUUM cost and RSS.

  --blobs N          blobs per case (default 5)
  --mib M            size of each blob in MiB (default 20)
  --chunks LIST      PostgreSQL chunk sizes in KiB, comma-separated (default 256,1024)
  --dir PATH         directory for the file case (default: a temp dir under ${tmpdir()});
                     point it at an NFS mount to measure a shared directory
  --test-settings    keep the harness's fsync/synchronous_commit/full_page_writes off
                     (default: restarted with PostgreSQL's defaults, all on, as in production)
  --json             print the results as JSON too
  --help             this text
`;

interface CaseResult {
  name: string;
  writeMiBps: number;
  readMiBps: number;
  /** PostgreSQL WAL bytes per MiB of blob stored (null for files). */
  walPerMiB: number | null;
  /** Bytes the table (with TOAST and index) grew by, per MiB stored (null for files). */
  tablePerMiB: number | null;
  deleteMs: number;
  /** WAL bytes per MiB deleted, VACUUM included (null for files). */
  deleteWalPerMiB: number | null;
  /** Peak RSS growth of this process (as a kluis node) during the case. */
  nodeRssPeakMiB: number;
  pgBackendRssPeakMiB: number | null;
}

function parse(argv: string[]) {
  const { values } = parseArgs({
    args: argv,
    options: {
      blobs: { type: 'string', default: '5' },
      mib: { type: 'string', default: '20' },
      chunks: { type: 'string', default: '256,1024' },
      dir: { type: 'string' },
      'test-settings': { type: 'boolean', default: false },
      json: { type: 'boolean', default: false },
      help: { type: 'boolean', default: false },
    },
    strict: true,
  });
  if (values.help) return undefined;
  const int = intOption;
  return {
    blobs: int('blobs', values.blobs!, 1, 100),
    mib: int('mib', values.mib!, 1, 512),
    chunksKiB: values.chunks!.split(',').map((c) => int('chunks', c.trim(), 8, 64 * 1024)),
    dir: values.dir,
    testSettings: values['test-settings']!,
    json: values.json!,
  };
}

/**
 * Peak RSS of this process above where it started (the blobs themselves are already in
 * memory), and the peak RSS of another process if given, sampled every 20 ms.
 */
function rssSampler(otherPid?: number) {
  const start = process.memoryUsage.rss();
  let node = start;
  let other = otherPid ? safeRss(otherPid) : 0;
  const timer = setInterval(() => {
    node = Math.max(node, process.memoryUsage.rss());
    if (otherPid) other = Math.max(other, safeRss(otherPid));
  }, 20);
  return {
    stop() {
      clearInterval(timer);
      return { node: (node - start) / MIB, other: otherPid ? other / MIB : null };
    },
  };
}

function safeRss(pid: number): number {
  try {
    return rssBytes(pid);
  } catch {
    return 0;
  }
}

/** The blob as a request body would deliver it: PIECE-sized slices. */
function* pieces(blob: Buffer): Generator<Buffer> {
  for (let at = 0; at < blob.byteLength; at += PIECE) yield blob.subarray(at, Math.min(at + PIECE, blob.byteLength));
}

function check(got: Buffer, blob: Buffer, at: number, what: string): void {
  if (at + got.byteLength > blob.byteLength || !got.equals(blob.subarray(at, at + got.byteLength))) throw new Error(`${what}: bytes at ${at} came back different`);
}

async function benchFiles(dir: string, blobs: Buffer[]): Promise<CaseResult> {
  const totalMiB = blobs.reduce((s, b) => s + b.byteLength, 0) / MIB;
  const rss = rssSampler();
  const ids = blobs.map(() => randomBytes(16).toString('base64url'));
  let t = performance.now();
  for (const [i, blob] of blobs.entries()) {
    const part = join(dir, `${ids[i]}.part`);
    const fh = await open(part, 'w', 0o600);
    try {
      let at = 0;
      for (const piece of pieces(blob)) {
        let done = 0;
        while (done < piece.byteLength) done += (await fh.write(piece, done, piece.byteLength - done, at + done)).bytesWritten;
        at += piece.byteLength;
      }
      await fh.sync();
    } finally {
      await fh.close();
    }
    await rename(part, join(dir, ids[i]!));
    await syncDir(dir);
  }
  const writeMs = performance.now() - t;
  t = performance.now();
  for (const [i, blob] of blobs.entries()) {
    let at = 0;
    for await (const chunk of createReadStream(join(dir, ids[i]!), { highWaterMark: PIECE })) {
      check(chunk as Buffer, blob, at, 'file');
      at += (chunk as Buffer).byteLength;
    }
    if (at !== blob.byteLength) throw new Error('file: short read');
  }
  const readMs = performance.now() - t;
  t = performance.now();
  for (const id of ids) await unlink(join(dir, id));
  await syncDir(dir);
  const deleteMs = performance.now() - t;
  const peak = rss.stop();
  return {
    name: 'files (fsync+rename)',
    writeMiBps: totalMiB / (writeMs / 1000),
    readMiBps: totalMiB / (readMs / 1000),
    walPerMiB: null,
    tablePerMiB: null,
    deleteMs,
    deleteWalPerMiB: null,
    nodeRssPeakMiB: peak.node,
    pgBackendRssPeakMiB: null,
  };
}

async function walLsn(client: pg.Client): Promise<string> {
  return (await client.query<{ lsn: string }>('select pg_current_wal_insert_lsn()::text as lsn')).rows[0]!.lsn;
}

async function walSince(client: pg.Client, from: string): Promise<number> {
  return Number((await client.query<{ d: string }>('select pg_wal_lsn_diff(pg_current_wal_insert_lsn(), $1::pg_lsn)::bigint::text as d', [from])).rows[0]!.d);
}

async function tableBytes(client: pg.Client): Promise<number> {
  return Number((await client.query<{ b: string }>(`select pg_total_relation_size('blob_chunks')::text as b`)).rows[0]!.b);
}

async function benchPostgres(client: pg.Client, backendPid: number, blobs: Buffer[], chunkKiB: number): Promise<CaseResult> {
  const chunk = chunkKiB * KIB;
  const totalMiB = blobs.reduce((s, b) => s + b.byteLength, 0) / MIB;
  await client.query('drop table if exists blob_chunks');
  await client.query('create table blob_chunks (blob_id text not null, seq int not null, data bytea not null, primary key (blob_id, seq))');
  await client.query('alter table blob_chunks alter column data set storage external');
  await client.query('checkpoint');
  const size0 = await tableBytes(client);
  const rss = rssSampler(backendPid);
  const ids = blobs.map(() => randomBytes(16).toString('base64url'));
  const lsn0 = await walLsn(client);
  let t = performance.now();
  for (const [i, blob] of blobs.entries()) {
    // Pieces arrive as from a request body and are gathered into chunk-sized rows.
    await client.query('begin');
    try {
      let seq = 0;
      let pending: Buffer[] = [];
      let pendingBytes = 0;
      const flush = async () => {
        if (pendingBytes === 0) return;
        const data = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
        await client.query({ name: 'put-chunk', text: 'insert into blob_chunks (blob_id, seq, data) values ($1, $2, $3)', values: [ids[i], seq++, data] });
        pending = [];
        pendingBytes = 0;
      };
      for (const piece of pieces(blob)) {
        let p = piece;
        while (p.byteLength > 0) {
          const take = Math.min(chunk - pendingBytes, p.byteLength);
          pending.push(p.subarray(0, take));
          pendingBytes += take;
          p = p.subarray(take);
          if (pendingBytes === chunk) await flush();
        }
      }
      await flush();
      await client.query('commit');
    } catch (err) {
      await client.query('rollback').catch(() => {});
      throw err;
    }
  }
  const writeMs = performance.now() - t;
  const wal = await walSince(client, lsn0);
  const grown = (await tableBytes(client)) - size0;
  t = performance.now();
  for (const [i, blob] of blobs.entries()) {
    let at = 0;
    for (let seq = 0; ; seq++) {
      const res = await client.query<{ data: Buffer }>({
        name: 'get-chunk',
        text: 'select data from blob_chunks where blob_id = $1 and seq = $2',
        values: [ids[i], seq],
      });
      const row = res.rows[0];
      if (!row) break;
      check(row.data, blob, at, `postgres ${chunkKiB} KiB`);
      at += row.data.byteLength;
    }
    if (at !== blob.byteLength) throw new Error(`postgres ${chunkKiB} KiB: short read (${at} of ${blob.byteLength})`);
  }
  const readMs = performance.now() - t;
  const lsn1 = await walLsn(client);
  t = performance.now();
  for (const id of ids) await client.query('delete from blob_chunks where blob_id = $1', [id]);
  // The space comes back only through VACUUM (autovacuum in production); count it here.
  await client.query('vacuum blob_chunks');
  const deleteMs = performance.now() - t;
  const deleteWal = await walSince(client, lsn1);
  const peak = rss.stop();
  await client.query('drop table blob_chunks');
  return {
    name: `postgres bytea ${chunkKiB >= 1024 && chunkKiB % 1024 === 0 ? `${chunkKiB / 1024} MiB` : `${chunkKiB} KiB`} chunks`,
    writeMiBps: totalMiB / (writeMs / 1000),
    readMiBps: totalMiB / (readMs / 1000),
    walPerMiB: wal / totalMiB,
    tablePerMiB: grown / totalMiB,
    deleteMs,
    deleteWalPerMiB: deleteWal / totalMiB,
    nodeRssPeakMiB: peak.node,
    pgBackendRssPeakMiB: peak.other,
  };
}

/** pg_ctl as the postgres user when we are root (PostgreSQL refuses to run as root). */
async function pgCtl(args: string[]): Promise<void> {
  const file = join(PG_BIN, 'pg_ctl');
  if (userInfo().uid === 0) await run('runuser', ['-u', 'postgres', '--', file, ...args]);
  else await run(file, args);
}

/**
 * The harness starts PostgreSQL with `-c fsync=off -c synchronous_commit=off -c
 * full_page_writes=off` on the command line, which outranks ALTER SYSTEM. For production
 * settings the cluster is stopped through the harness (pause) and started again here on
 * the same data dir, port and socket dir without those options; the returned function
 * stops it again (also run on exit), after which the harness's stop() removes the dir.
 */
async function restartDurable(server: PostgresServer): Promise<() => Promise<void>> {
  const probe = new pg.Client({ connectionString: server.url });
  probe.on('error', () => {});
  let data: string;
  let socketDir: string;
  try {
    await probe.connect();
    data = (await probe.query<{ v: string }>(`select current_setting('data_directory') as v`)).rows[0]!.v;
    socketDir = (await probe.query<{ v: string }>(`select current_setting('unix_socket_directories') as v`)).rows[0]!.v.split(',')[0]!.trim();
  } finally {
    await probe.end().catch(() => {});
  }
  await server.pause();
  await pgCtl(['-D', data, '-l', join(socketDir, 'log-durable'), '-w', '-t', '30', '-o', `-p ${server.port} -k ${socketDir} -c listen_addresses=127.0.0.1`, 'start']);
  const onExit = () => {
    const stop = [join(PG_BIN, 'pg_ctl'), '-D', data, '-m', 'immediate', '-w', 'stop'];
    try {
      if (userInfo().uid === 0) execFileSync('runuser', ['-u', 'postgres', '--', ...stop], { stdio: 'ignore' });
      else execFileSync(stop[0]!, stop.slice(1), { stdio: 'ignore' });
    } catch {
      // Already stopped.
    }
  };
  process.once('exit', onExit);
  let stopped = false;
  return async () => {
    if (stopped) return;
    stopped = true;
    process.removeListener('exit', onExit);
    await pgCtl(['-D', data, '-m', 'fast', '-w', '-t', '30', 'stop']);
  };
}

async function settingsOf(client: pg.Client): Promise<string> {
  const rows = (await client.query<{ name: string; setting: string }>(`select name, setting, unit from pg_settings where name in ('fsync', 'full_page_writes', 'synchronous_commit', 'wal_level', 'wal_compression', 'shared_buffers') order by name`)).rows;
  return rows.map((r) => `${r.name}=${r.setting}`).join(' ');
}

function fmt(n: number | null, digits = 0): string {
  return n === null ? '-' : n.toFixed(digits);
}

async function main(): Promise<void> {
  const opts = parse(process.argv.slice(2));
  if (!opts) {
    process.stdout.write(HELP);
    return;
  }
  const size = opts.mib * MIB;
  // Random bytes: encrypted attachments are incompressible.
  const blobs = Array.from({ length: opts.blobs }, () => randomBytes(size));
  const ownDir = opts.dir ? undefined : await mkdtemp(join(tmpdir(), 'kluis-blob-choice-'));
  const fileDir = opts.dir ?? ownDir!;
  let server: PostgresServer | undefined;
  let client: pg.Client | undefined;
  let stopDurable: (() => Promise<void>) | undefined;
  try {
    server = await startPostgres({ database: 'blobs' });
    if (!opts.testSettings) stopDurable = await restartDurable(server);
    client = new pg.Client({ connectionString: server.url });
    // Errors surface through the awaited queries; a stray 'error' event must not crash the run.
    client.on('error', () => {});
    await client.connect();
    const settings = await settingsOf(client);
    const backendPid = (await client.query<{ pid: number }>('select pg_backend_pid() as pid')).rows[0]!.pid;
    const version = (await client.query<{ server_version: string }>('show server_version')).rows[0]!.server_version;
    const load = readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
    console.log(`${opts.blobs} blobs x ${opts.mib} MiB; PostgreSQL ${version} (${settings}); file dir ${fileDir}; load average ${load}`);

    const results: CaseResult[] = [];
    results.push(await benchFiles(fileDir, blobs));
    for (const kib of opts.chunksKiB) results.push(await benchPostgres(client, backendPid, blobs, kib));

    const head = ['case', 'write MiB/s', 'read MiB/s', 'WAL B/MiB', 'table B/MiB', 'delete ms', 'delete WAL B/MiB', 'node RSS +MiB', 'pg backend RSS MiB'];
    const rows = results.map((r) => [r.name, fmt(r.writeMiBps), fmt(r.readMiBps), fmt(r.walPerMiB), fmt(r.tablePerMiB), fmt(r.deleteMs), fmt(r.deleteWalPerMiB), fmt(r.nodeRssPeakMiB), fmt(r.pgBackendRssPeakMiB)]);
    const widths = head.map((h, i) => Math.max(h.length, ...rows.map((r) => r[i]!.length)));
    const line = (cells: string[]) => cells.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join('  ');
    console.log(line(head));
    for (const r of rows) console.log(line(r));
    console.log(
      'WAL B/MiB: bytes of PostgreSQL WAL per MiB of blob stored (each byte is also shipped to every\n' +
        'replica and archived); node RSS +MiB: peak growth of this process (as a kluis node) over\n' +
        'the case; pg backend RSS: peak of the PostgreSQL backend serving it. Reads come from a\n' +
        'warm page cache in both cases; PostgreSQL results arrive hex-encoded (twice the bytes).',
    );
    if (opts.json) console.log(JSON.stringify({ blobs: opts.blobs, mib: opts.mib, settings, load, results }, null, 2));
  } finally {
    await client?.end().catch(() => {});
    await stopDurable?.();
    await server?.stop();
    if (ownDir) await rm(ownDir, { recursive: true, force: true });
  }
}

main().catch((err) => {
  console.error(err);
  process.exitCode = 1;
});
