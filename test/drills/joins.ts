import SealedSenderMultiRecipientMessage from '@signalapp/libsignal-client/dist/SealedSenderMultiRecipientMessage.js';
import type { Artifact } from './search.js';

/*
 * The seizure drill's join checks: a server holder reads rows, not only bytes. Each check
 * tries to tie sealed envelopes to their senders (or to who they talked to) by joining
 * what the seized database and the recorded traffic hold, and reports how many pairs it
 * tried, how many links it made, and how many of those name a true sender (checked
 * against what the session really sent). Every check must find 0.
 */

/** An envelope row as a forensic tool reads it (every column there is). */
export interface SeizedEnvelope {
  id: number;
  account_id: string;
  device_id: number;
  type: number;
  source_account: string | null;
  timestamp: number;
  server_timestamp: number;
  expires_at: number;
  content: Buffer;
}

/** What the session really sent: who to which accounts (the drill's ground truth). */
export interface SentMessage {
  from: string;
  to: string[];
}

export interface JoinCheck {
  name: string;
  /** Candidate pairs the join compared. */
  pairs: number;
  /** Rows (or requests) the join tied to one account as sender, or to one other account as peer. */
  links: number;
  /** Links that name a true sender of that row (or a true pair of correspondents). */
  recovered: number;
}

const SEALED = 6;
const SENDER_KEY = 7;
/** First byte of a sealed sender v2 (multi-recipient) payload: UUID or service-id recipients. */
const SEALED_V2 = [0x22, 0x23];
/** Client clocks of one send differ by less than this: "near" timestamps. */
const NEAR_MS = 1000;
/** Queue positions this close count as written by one commit. */
const ADJACENT = 4;
/** A commit of one message writes at most this many rows in the drill (5 accounts, 6 devices). */
const ONE_SEND_ROWS = 8;

export function joinChecks(rows: readonly SeizedEnvelope[], blobs: ReadonlyArray<Record<string, unknown>>, artifacts: readonly Artifact[], sent: readonly SentMessage[]): JoinCheck[] {
  const truth = new Truth(sent);
  return [timestampJoin(rows, truth), wireTimestampJoin(artifacts, truth), sameTimeJoin(rows, truth), adjacencyJoin(rows, truth), fanOutJoin(rows, truth), blobJoin(rows, blobs, truth)];
}

class Truth {
  constructor(private readonly sent: readonly SentMessage[]) {}
  /** `sender` really sent something to `recipient`'s account (a sync copy's recipient is the sender itself). */
  sender(recipient: string, sender: string): boolean {
    return sender !== recipient && this.sent.some((m) => m.from === sender && m.to.includes(recipient));
  }
  /** The two accounts really corresponded. */
  pair(a: string, b: string): boolean {
    return this.sender(a, b) || this.sender(b, a);
  }
}

/** Equal or near client timestamps between a sealed envelope and an identified one (a sync copy, say). */
function timestampJoin(rows: readonly SeizedEnvelope[], truth: Truth): JoinCheck {
  const sealed = rows.filter((r) => r.type === SEALED);
  const identified = rows.filter((r) => r.source_account !== null);
  const check: JoinCheck = { name: 'sealed ↔ identified envelope timestamps (equal or within 1 s)', pairs: sealed.length * identified.length, links: 0, recovered: 0 };
  for (const s of sealed) {
    if (!Number(s.timestamp)) continue;
    const senders = new Set(identified.filter((i) => Math.abs(Number(i.timestamp) - Number(s.timestamp)) <= NEAR_MS).map((i) => i.source_account!));
    senders.delete(s.account_id);
    if (senders.size !== 1) continue;
    check.links++;
    if (truth.sender(s.account_id, [...senders][0]!)) check.recovered++;
  }
  return check;
}

/**
 * The same join on the recorded traffic: a sealed request's timestamp (it names its
 * recipients) against identified requests' (their connection's credentials name the
 * sender), equal or within 1 s.
 */
function wireTimestampJoin(artifacts: readonly Artifact[], truth: Truth): JoinCheck {
  const sealed: Array<{ timestamp: number | undefined; recipients: string[] }> = [];
  const identified: Array<{ timestamp: number; sender: string }> = [];
  for (const a of artifacts.filter((x) => x.group === 'wire →server')) {
    const text = a.bytes.toString('latin1');
    let sender: string | undefined;
    for (const req of httpRequests(text)) {
      const who = req.authorization ? accountOf(req.authorization) : undefined;
      sender ??= who;
      const body = parseJson(req.body);
      const timestamp = typeof body?.timestamp === 'number' ? body.timestamp : undefined;
      if (req.method === 'PUT' && req.path.startsWith('/v1/sealed')) sealed.push({ timestamp, recipients: sealedRecipients(req.path, body ?? {}) });
      else if (timestamp !== undefined && req.path.startsWith('/v1/messages') && who) identified.push({ timestamp, sender: who });
    }
    // Socket frames, one per line once unmasked: the socket's credentials name the sender.
    for (const line of text.split('\n')) {
      if (!sender || !line.startsWith('{"type":"send')) continue;
      const frame = parseJson(line) as { body?: { timestamp?: unknown } } | undefined;
      if (typeof frame?.body?.timestamp === 'number') identified.push({ timestamp: frame.body.timestamp, sender });
    }
  }
  const check: JoinCheck = { name: 'wire: sealed ↔ identified request timestamps (equal or within 1 s)', pairs: sealed.length * identified.length, links: 0, recovered: 0 };
  for (const s of sealed) {
    if (s.timestamp === undefined) continue;
    const senders = new Set(identified.filter((i) => Math.abs(i.timestamp - s.timestamp!) <= NEAR_MS).map((i) => i.sender));
    for (const r of s.recipients) senders.delete(r);
    if (senders.size !== 1) continue;
    const sender = [...senders][0]!;
    check.links += s.recipients.length;
    check.recovered += s.recipients.filter((r) => truth.sender(r, sender)).length;
  }
  return check;
}

/**
 * Rows of one commit, as far as stored times tell: equal server time and expiry. A small
 * commit spanning two accounts is one message between them (a sealed envelope and the
 * sender's sync copy); an identified row in it names the sender outright.
 */
function sameTimeJoin(rows: readonly SeizedEnvelope[], truth: Truth): JoinCheck {
  const byTime = new Map<string, SeizedEnvelope[]>();
  for (const r of rows) {
    const key = `${r.server_timestamp}/${r.expires_at}`;
    const list = byTime.get(key);
    if (list) list.push(r);
    else byTime.set(key, [r]);
  }
  return commitLinks('rows of one commit by equal server time and expiry', [...byTime.values()], rows.length, truth);
}

/**
 * Rows of one commit, as far as queue positions tell: a sealed row and a row of another
 * account next to each other (a sealed envelope to Bob at 100, the sync copy to Alice's
 * laptop at 101) are one message between the two; an identified one names the sender.
 */
function adjacencyJoin(rows: readonly SeizedEnvelope[], truth: Truth): JoinCheck {
  const sorted = [...rows].sort((a, b) => Number(a.id) - Number(b.id));
  const check: JoinCheck = { name: 'rows of one commit by adjacent queue positions', pairs: Math.max(0, sorted.length - 1), links: 0, recovered: 0 };
  for (let i = 1; i < sorted.length; i++) {
    const [a, b] = [sorted[i - 1]!, sorted[i]!];
    if (Number(b.id) - Number(a.id) > ADJACENT || a.account_id === b.account_id || (a.type !== SEALED && b.type !== SEALED)) continue;
    check.links++;
    const named = [a, b].find((r) => r.source_account !== null);
    const other = named === a ? b : a;
    if (named ? truth.sender(other.account_id, named.source_account!) : truth.pair(a.account_id, b.account_id)) check.recovered++;
  }
  return check;
}

function commitLinks(name: string, commits: SeizedEnvelope[][], pairs: number, truth: Truth): JoinCheck {
  const check: JoinCheck = { name, pairs, links: 0, recovered: 0 };
  for (const c of commits) {
    const accounts = [...new Set(c.map((r) => r.account_id))];
    if (c.length > ONE_SEND_ROWS || accounts.length !== 2 || !c.some((r) => r.type === SEALED)) continue;
    const [a, b] = accounts as [string, string];
    const named = c.find((r) => r.source_account !== null)?.source_account;
    check.links++;
    if (named ? truth.sender(named === a ? b : a, named) : truth.pair(a, b)) check.recovered++;
  }
  return check;
}

/**
 * Fan-outs: a sealed multi-recipient payload shows by its version byte (libsignal's
 * sealed sender v2), a sender-key message by its type; rows sharing a ciphertext tail are
 * one message (the per-recipient payloads share their encrypted body). The union of the
 * overlapping fan-outs' account sets, minus one fan-out's set, names its sender when one
 * account is left.
 */
function fanOutJoin(rows: readonly SeizedEnvelope[], truth: Truth): JoinCheck {
  const byTail = new Map<string, SeizedEnvelope[]>();
  for (const r of rows) {
    const multi = r.type === SENDER_KEY || (r.type === SEALED && SEALED_V2.includes(r.content[0]!));
    if (!multi || r.content.length < 96) continue;
    const tail = r.content.subarray(r.content.length - 64).toString('base64');
    const list = byTail.get(tail);
    if (list) list.push(r);
    else byTail.set(tail, [r]);
  }
  const fanOuts = [...byTail.values()].map((rs) => ({ rows: rs, accounts: new Set(rs.map((r) => r.account_id)) }));
  const check: JoinCheck = { name: 'fan-out recipient sets (union of a group’s sets minus one)', pairs: fanOuts.length * Math.max(0, fanOuts.length - 1), links: 0, recovered: 0 };
  for (const f of fanOuts) {
    // The group, as far as the rows show: every fan-out sharing an account with this one.
    const union = new Set<string>();
    for (const g of fanOuts) if ([...g.accounts].some((a) => f.accounts.has(a))) for (const a of g.accounts) union.add(a);
    const missing = [...union].filter((a) => !f.accounts.has(a));
    if (missing.length !== 1) continue;
    check.links += f.accounts.size;
    check.recovered += [...f.accounts].filter((a) => truth.sender(a, missing[0]!)).length;
  }
  return check;
}

/**
 * Blob rows next to envelope rows in time: the first message stored after an upload (up
 * to 5 s later) carries that file, so the blob is tied to its recipients (and, through
 * an identified copy or a commit shared with another account, to its sender).
 */
function blobJoin(rows: readonly SeizedEnvelope[], blobs: ReadonlyArray<Record<string, unknown>>, truth: Truth): JoinCheck {
  const check: JoinCheck = { name: 'blob rows up to 5 s before envelope rows', pairs: blobs.length * rows.length, links: 0, recovered: 0 };
  for (const b of blobs) {
    // Whatever time columns the blob row has.
    const times = Object.entries(b)
      .filter(([k, v]) => /(_at|time)/.test(k) && (typeof v === 'number' || typeof v === 'bigint'))
      .map(([, v]) => Number(v));
    const after = (r: SeizedEnvelope) => Math.min(...times.map((t) => Number(r.server_timestamp) - t).filter((d) => d >= 0 && d <= 5000));
    const first = Math.min(...rows.map(after));
    const near = Number.isFinite(first) ? rows.filter((r) => after(r) === first) : [];
    const accounts = new Set(near.map((r) => r.account_id));
    if (near.length === 0 || near.length > ONE_SEND_ROWS || accounts.size > 2) continue;
    check.links++;
    const named = near.find((r) => r.source_account !== null)?.source_account;
    const [a, b2] = [...accounts];
    if ((named && [...accounts].some((x) => truth.sender(x, named))) || (b2 !== undefined && truth.pair(a!, b2))) check.recovered++;
  }
  return check;
}

function httpRequests(text: string): Array<{ method: string; path: string; authorization?: string; body: string }> {
  const out: Array<{ method: string; path: string; authorization?: string; body: string }> = [];
  const re = /(GET|PUT|POST|DELETE|PATCH) (\/\S*) HTTP\/1\.1\r\n([\s\S]*?)\r\n\r\n/g;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    const headers = m[3]!;
    const length = Number(/^content-length:\s*(\d+)/im.exec(headers)?.[1] ?? 0);
    const authorization = /^authorization:\s*(.+)$/im.exec(headers)?.[1]?.trim();
    const start = m.index + m[0].length;
    out.push({ method: m[1]!, path: m[2]!, ...(authorization ? { authorization } : {}), body: text.slice(start, start + length) });
  }
  return out;
}

/** The account id a device credential names (Basic base64 of "accountId.deviceId:password"). */
function accountOf(authorization: string): string | undefined {
  const m = /^Basic\s+(\S+)/i.exec(authorization);
  if (!m) return undefined;
  const user = Buffer.from(m[1]!, 'base64').toString('utf8').split(':')[0] ?? '';
  return /^[0-9a-f-]{36}/i.exec(user)?.[0];
}

/** A sealed request's recipients: the path's account, or every account of a multi-recipient message. */
function sealedRecipients(path: string, body: Record<string, unknown>): string[] {
  const single = /^\/v1\/sealed\/([0-9a-f-]{36})/i.exec(path)?.[1];
  if (single) return [single];
  try {
    const m = new SealedSenderMultiRecipientMessage(new Uint8Array(Buffer.from(String(body.message), 'base64')));
    return [...Object.keys(m.recipientsByServiceIdString()), ...m.excludedRecipientServiceIdStrings()];
  } catch {
    return [];
  }
}

function parseJson(text: string): Record<string, unknown> | undefined {
  try {
    const v = JSON.parse(text) as unknown;
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}
