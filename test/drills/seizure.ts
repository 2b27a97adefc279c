import { copyFile, readFile } from 'node:fs/promises';
import { basename, join, relative, sep } from 'node:path';
import Database from 'better-sqlite3';
import { filesUnder } from '../e2e/plaintext-scan.js';
import type { Harness } from '../harness/harness.js';
import { freePort } from '../harness/processes.js';
import { readableWire, RecordingProxy } from './recording-proxy.js';
import { joinChecks, type JoinCheck, type SeizedEnvelope } from './joins.js';
import { findNear, searchArtifacts, type Artifact, type Hit, type SearchResult, type Secret } from './search.js';
import { runSession, type SessionRecord } from './session.js';
import { storedMetadataCheck, type StoredMetadataCheck } from './stored-metadata.js';

/** The address the clients' traffic reaches the server from (a loopback alias of its own). */
export const CLIENT_ADDRESS = '127.0.0.77';

export interface SealedCheck {
  /** 'n/a' while no sealed envelope was seen (sealed sender not in use). */
  status: 'ok' | 'fail' | 'n/a';
  storedSealed: number;
  storedSealedWithSender: number;
  deliveredSealed: number;
  deliveredSealedWithSender: number;
  storedTotal: number;
}

export interface DrillReport {
  session: SessionRecord;
  artifacts: Artifact[];
  search: SearchResult;
  /** Member usernames found near a group id. */
  membership: Hit[];
  sealed: SealedCheck;
  /** Joins that try to tie sealed envelopes to senders (joins.ts): each must link nothing. */
  joins: JoinCheck[];
  /** Device-name lengths, user times finer than a day, prekey counts (stored-metadata.ts). */
  metadata: StoredMetadataCheck;
  freelistPages: number;
  ok: boolean;
  durationMs: number;
}

/**
 * The seizure drill: a real `kluis server` process behind a recording proxy, a scripted
 * session, then everything a server holder has — data directory bytes (database with its
 * free pages, WAL, blobs), the process's output, every byte on the port — searched for
 * every secret the clients hold.
 */
export async function runSeizureDrill(h: Harness): Promise<DrillReport> {
  const started = Date.now();
  const dataDir = await h.tempDir('seized-server');
  const serverPort = await freePort();
  const proxy = await RecordingProxy.start({ targetPort: serverPort, sourceAddress: CLIENT_ADDRESS });
  h.onDispose(() => proxy.close());
  const server = await h.spawnServer({
    dataDir,
    port: serverPort,
    env: {
      KLUIS_ARGON2_MEMORY_KIB: '64',
      KLUIS_ARGON2_ITERATIONS: '1',
      KLUIS_PUBLIC_URL: proxy.url,
      KLUIS_BLOB_DIR: join(dataDir, 'blobs'),
    },
  });
  const session = await runSession(h, { url: proxy.url, operatorToken: server.operatorToken, tag: `d${Date.now().toString(36)}` });
  // Let the checkpointer see a quiet database (db/checkpointer.ts) — then pull the plug,
  // as a seizure would: SIGKILL leaves the WAL and everything else exactly as it was.
  await new Promise((r) => setTimeout(r, 1500));
  server.process.kill('SIGKILL');
  const exited = await server.process.wait(10_000);
  await proxy.close();
  const artifacts = await collectArtifacts(dataDir, exited.stdout, exited.stderr, proxy);
  const rows = await envelopeRows(h, dataDir);
  const sealed = sealedCheck(rows, artifacts);
  const freelistPages = await freelistCount(h, dataDir);
  const joins = await withSeizedDb(h, dataDir, (db) =>
    joinChecks(db.prepare('SELECT * FROM envelopes').all() as SeizedEnvelope[], db.prepare('SELECT * FROM blobs').all() as Array<Record<string, unknown>>, artifacts, session.sent),
  );
  const metadata = await withSeizedDb(h, dataDir, storedMetadataCheck);
  // A multi-recipient sealed message shares its payload between recipients: bytes still
  // held by a queued envelope (for the offline device) are not an acked envelope's trace.
  session.ackedCiphertexts = session.ackedCiphertexts.filter((s) => !rows.some((r) => r.content.includes(s)));
  const report = searchSeizure(artifacts, session);
  const ok = report.ok && sealed.status !== 'fail' && metadata.status === 'ok' && joins.every((j) => j.links === 0);
  return { session, artifacts, ...report, sealed, joins, metadata, freelistPages, ok, durationMs: Date.now() - started };
}

/** Every secret of the session (plus group member lists and the clients' address), in every artifact. */
export function searchSeizure(artifacts: readonly Artifact[], session: SessionRecord): { search: SearchResult; membership: Hit[]; ok: boolean } {
  const secrets: Secret[] = [...session.secrets, ...groupSecrets(session), { kind: 'client IP address', label: CLIENT_ADDRESS, value: CLIENT_ADDRESS }];
  const search = searchArtifacts(artifacts, secrets);
  // Acked envelopes' ciphertext crossed the wire by design; on disk it must be gone (secure_delete, WAL truncation).
  restricted(search, artifacts, DISK, session.ackedCiphertexts.map((value, i) => ({ kind: ACKED, label: `acked envelope #${i}`, value })));
  // The server stores usernames and account ids; its output must not name them.
  restricted(
    search,
    artifacts,
    LOGS,
    session.identities.flatMap((x) => [
      { kind: IN_LOGS, label: x.username, value: x.username },
      { kind: IN_LOGS, label: x.accountId, value: x.accountId },
    ]),
  );
  const anchors = session.groups.map((g) => ({ kind: 'group ids', label: g.title, value: Buffer.from(g.id, 'hex') }));
  const usernames = [...new Set(session.groups.flatMap((g) => g.memberSets.flat().map((m) => m.username)))];
  const membership = findNear(artifacts, anchors, usernames, 'member username next to a group id');
  return { search, membership, ok: search.hits.length === 0 && membership.length === 0 };
}

export const ACKED = 'acked envelope ciphertext (disk only)';
export const DISK = ['database', 'WAL+shm', 'blob dir', 'other files'];
export const IN_LOGS = 'usernames, account ids (logs only)';
export const LOGS = ['stdout+stderr'];
/** Which artifact groups a restricted kind is searched in (the report shows '-' elsewhere). */
export const SEARCHED_ONLY_IN = new Map([
  [ACKED, DISK],
  [IN_LOGS, LOGS],
]);

/** Searches `secrets` (all of one kind) in the `groups` artifacts only, and adds the result as a row of `search`. */
function restricted(search: SearchResult, artifacts: readonly Artifact[], groups: readonly string[], secrets: Secret[]): void {
  if (secrets.length === 0) return;
  const kind = secrets[0]!.kind;
  const found = searchArtifacts(artifacts.filter((a) => groups.includes(a.group)), secrets);
  search.kinds.push({ kind, needles: secrets.length });
  search.counts.set(kind, new Map(search.groups.map((g) => [g, found.counts.get(kind)?.get(g) ?? 0])));
  search.hits.push(...found.hits);
}

/** A group's member list in the forms that would give it away: sorted account ids, run together or comma-joined. */
function groupSecrets(session: SessionRecord): Secret[] {
  const out: Secret[] = [];
  for (const g of session.groups) {
    out.push({ kind: 'group ids', label: g.title, value: Buffer.from(g.id, 'hex') });
    for (const [v, members] of g.memberSets.entries()) {
      const ids = members.map((m) => m.accountId).sort();
      out.push({ kind: 'group member lists', label: `${g.title} v${v} ids`, value: ids.join('') });
      out.push({ kind: 'group member lists', label: `${g.title} v${v} ids,`, value: ids.join(',') });
      out.push({ kind: 'group member lists', label: `${g.title} v${v} names`, value: members.map((m) => m.username).sort().join(',') });
    }
  }
  return out;
}

async function collectArtifacts(dataDir: string, stdout: string, stderr: string, proxy: RecordingProxy): Promise<Artifact[]> {
  const artifacts: Artifact[] = [];
  for (const file of await filesUnder(dataDir)) {
    const rel = relative(dataDir, file);
    const name = basename(file);
    const group = name === 'kluis.db' ? 'database' : /-(wal|shm|journal)$/.test(name) ? 'WAL+shm' : rel.includes(sep) ? 'blob dir' : 'other files';
    artifacts.push({ group, name: rel, bytes: await readFile(file) });
  }
  artifacts.push({ group: 'stdout+stderr', name: 'stdout', bytes: Buffer.from(stdout) }, { group: 'stdout+stderr', name: 'stderr', bytes: Buffer.from(stderr) });
  for (const c of proxy.connections()) {
    artifacts.push({ group: 'wire →server', name: `connection ${c.id} →server`, bytes: Buffer.concat([c.toServer, readableWire(c.toServer)]) });
    artifacts.push({ group: 'wire ←server', name: `connection ${c.id} ←server`, bytes: Buffer.concat([c.fromServer, readableWire(c.fromServer)]) });
  }
  return artifacts;
}

/** A copy of the seized database (with its WAL), opened read-only as a forensic tool would. */
async function withSeizedDb<T>(h: Harness, dataDir: string, fn: (db: Database.Database) => T): Promise<T> {
  const dir = await h.tempDir('forensics');
  for (const f of ['kluis.db', 'kluis.db-wal']) await copyFile(join(dataDir, f), join(dir, f)).catch(() => {});
  const db = new Database(join(dir, 'kluis.db'));
  try {
    return fn(db);
  } finally {
    db.close();
  }
}

interface EnvelopeRow {
  type: number;
  source_account: string | null;
  source_device: number | null;
  content: Buffer;
}

async function envelopeRows(h: Harness, dataDir: string): Promise<EnvelopeRow[]> {
  return withSeizedDb(h, dataDir, (db) => db.prepare('SELECT type, source_account, source_device, content FROM envelopes').all() as EnvelopeRow[]);
}

async function freelistCount(h: Harness, dataDir: string): Promise<number> {
  return withSeizedDb(h, dataDir, (db) => Number(db.pragma('freelist_count', { simple: true })));
}

const SEALED = 6;

/**
 * Sealed envelopes must carry no sender, neither in the rows left in the database nor in
 * what the server pushed to devices. Data-driven: until sealed sender is in use there is
 * nothing to check, and the drill says 'n/a'.
 */
export function sealedCheck(rows: readonly EnvelopeRow[], artifacts: readonly Artifact[]): SealedCheck {
  const storedSealed = rows.filter((r) => r.type === SEALED);
  const storedSealedWithSender = storedSealed.filter((r) => r.source_account !== null || r.source_device !== null).length;
  let deliveredSealed = 0;
  let deliveredSealedWithSender = 0;
  for (const a of artifacts.filter((x) => x.group === 'wire ←server')) {
    for (const line of a.bytes.toString('utf8').split('\n')) {
      if (!line.startsWith('{') || !line.includes('"envelope"')) continue;
      try {
        const frame = JSON.parse(line) as { type?: string; envelope?: { type?: number; sourceAccount?: string; sourceDevice?: number } };
        if (frame.type !== 'envelope' || frame.envelope?.type !== SEALED) continue;
        deliveredSealed++;
        if (frame.envelope.sourceAccount !== undefined || frame.envelope.sourceDevice !== undefined) deliveredSealedWithSender++;
      } catch {
        // Not a whole JSON frame (a frame cut across TCP reads is in the raw half too).
      }
    }
  }
  const any = storedSealed.length + deliveredSealed;
  const bad = storedSealedWithSender + deliveredSealedWithSender;
  return {
    status: any === 0 ? 'n/a' : bad === 0 ? 'ok' : 'fail',
    storedSealed: storedSealed.length,
    storedSealedWithSender,
    deliveredSealed,
    deliveredSealedWithSender,
    storedTotal: rows.length,
  };
}
