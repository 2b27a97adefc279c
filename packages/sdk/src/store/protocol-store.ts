import { SessionRecord } from '@signalapp/libsignal-client';
import type { Db } from './db.js';

export type Bytes = Uint8Array<ArrayBuffer>;

/**
 * One transactional store under every libsignal adapter.
 *
 * Outside a zone every write goes straight to SQLite. Inside a zone, writes are buffered in
 * the zone (reads through the same zone see them) and `commit(zone, extra)` applies them all in
 * one SQLite transaction together with `extra` (e.g. the decrypted message row); `discard`
 * drops them, leaving the database exactly as before.
 */

export type IdentityStatus = 'trusted' | 'changed-pending';

export interface IdentityRow {
  accountId: string;
  /** The trusted key (the one safety numbers are computed with). */
  publicKey: Bytes;
  status: IdentityStatus;
  /** A new key seen but not yet accepted with trust(). */
  pendingKey: Bytes | null;
  verified: boolean;
  firstSeen: number;
  updatedAt: number;
}

export interface SessionRow {
  address: string;
  accountId: string;
  deviceId: number;
  record: Bytes;
}

export interface SignedKeyRow {
  id: number;
  record: Bytes;
  createdAt: number;
  replacedAt: number | null;
}

export interface KyberKeyRow extends SignedKeyRow {
  lastResort: boolean;
}

type Write =
  | { t: 'session'; key: string; value: SessionRow | null }
  | { t: 'identity'; key: string; value: IdentityRow | null }
  | { t: 'prekey'; key: number; value: Bytes | null }
  | { t: 'signed'; key: number; value: SignedKeyRow | null }
  | { t: 'kyber'; key: number; value: KyberKeyRow | null }
  | { t: 'senderkey'; key: string; value: { address: string; distributionId: string; record: Bytes } | null };

type WriteOf<T extends Write['t']> = Extract<Write, { t: T }>;

export class Zone {
  readonly writes = new Map<string, Write>();
  state: 'open' | 'committed' | 'discarded' = 'open';
  constructor(readonly name: string) {}

  get<T extends Write['t']>(t: T, key: string | number): WriteOf<T> | undefined {
    return this.writes.get(`${t}:${key}`) as WriteOf<T> | undefined;
  }
  put(w: Write): void {
    if (this.state !== 'open') throw new Error(`zone ${this.name} is ${this.state}`);
    this.writes.set(`${w.t}:${w.key}`, w);
  }
  of<T extends Write['t']>(t: T): WriteOf<T>[] {
    return [...this.writes.values()].filter((w): w is WriteOf<T> => w.t === t);
  }
}

export function splitAddress(address: string): { accountId: string; deviceId: number } {
  const dot = address.lastIndexOf('.');
  return { accountId: address.slice(0, dot), deviceId: Number(address.slice(dot + 1)) };
}

export const u8 = (v: unknown): Bytes => new Uint8Array(v as Bytes);

/** A session we can encrypt with (not archived, not broken). */
export function usable(record: Bytes | undefined): boolean {
  return usableRegistration(record) !== undefined;
}

/** The remote registration id of a session we can encrypt with; undefined when there is none. */
function usableRegistration(record: Bytes | undefined): number | undefined {
  if (!record) return undefined;
  try {
    const r = SessionRecord.deserialize(record);
    return r.hasCurrentState() ? r.remoteRegistrationId() : undefined;
  } catch {
    return undefined;
  }
}

export class ProtocolStore {
  /**
   * Committed usable device ids per account. A group send asks for every member's on every
   * message, and reading and parsing a thousand session records each time cost more than the
   * encryption. Any session write for the account drops its entry (even one a rolled-back
   * transaction made: dropping is always safe); entries are filled only outside transactions.
   */
  private readonly usableByAccount = new Map<string, ReadonlyMap<number, number>>();

  constructor(
    readonly db: Db,
    private readonly now: () => number,
  ) {}

  zone(name = 'zone'): Zone {
    return new Zone(name);
  }

  /** Applies the zone's writes and `extra` in one transaction. Throws (and writes nothing) on error. */
  commit<T = void>(zone: Zone, extra?: () => T): T | undefined {
    if (zone.state !== 'open') throw new Error(`zone ${zone.name} is ${zone.state}`);
    const result = this.db.transaction(() => {
      for (const w of zone.writes.values()) this.apply(w);
      return extra?.();
    })();
    zone.state = 'committed';
    return result;
  }

  discard(zone: Zone): void {
    if (zone.state === 'open') zone.state = 'discarded';
    zone.writes.clear();
  }

  /** Runs fn in a plain SQLite transaction (no zone). */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  private write(w: Write, zone?: Zone): void {
    if (zone) zone.put(w);
    else this.apply(w);
  }

  private apply(w: Write): void {
    const now = this.now();
    switch (w.t) {
      case 'session':
        this.usableByAccount.delete(w.value?.accountId ?? splitAddress(w.key).accountId);
        if (w.value)
          this.db
            .prepare(
              'INSERT INTO sessions (address, account_id, device_id, record, updated_at) VALUES (?, ?, ?, ?, ?) ' +
                'ON CONFLICT(address) DO UPDATE SET record = excluded.record, updated_at = excluded.updated_at',
            )
            .run([w.key, w.value.accountId, w.value.deviceId, u8(w.value.record), now]);
        else this.db.prepare('DELETE FROM sessions WHERE address = ?').run([w.key]);
        return;
      case 'identity':
        if (w.value) {
          const v = w.value;
          this.db
            .prepare(
              'INSERT INTO identities (account_id, public_key, status, pending_key, verified, first_seen, updated_at) ' +
                'VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT(account_id) DO UPDATE SET public_key = excluded.public_key, ' +
                'status = excluded.status, pending_key = excluded.pending_key, verified = excluded.verified, ' +
                'updated_at = excluded.updated_at',
            )
            .run([
              v.accountId,
              u8(v.publicKey),
              v.status,
              v.pendingKey ? u8(v.pendingKey) : null,
              v.verified ? 1 : 0,
              v.firstSeen,
              v.updatedAt,
            ]);
        } else this.db.prepare('DELETE FROM identities WHERE account_id = ?').run([w.key]);
        return;
      case 'prekey':
        if (w.value)
          this.db
            .prepare('INSERT OR REPLACE INTO prekeys (id, record, created_at) VALUES (?, ?, ?)')
            .run([w.key, u8(w.value), now]);
        else this.db.prepare('DELETE FROM prekeys WHERE id = ?').run([w.key]);
        return;
      case 'signed':
        if (w.value)
          this.db
            .prepare('INSERT OR REPLACE INTO signed_prekeys (id, record, created_at, replaced_at) VALUES (?, ?, ?, ?)')
            .run([w.key, u8(w.value.record), w.value.createdAt, w.value.replacedAt]);
        else this.db.prepare('DELETE FROM signed_prekeys WHERE id = ?').run([w.key]);
        return;
      case 'kyber':
        if (w.value)
          this.db
            .prepare(
              'INSERT OR REPLACE INTO kyber_prekeys (id, record, last_resort, created_at, replaced_at) VALUES (?, ?, ?, ?, ?)',
            )
            .run([w.key, u8(w.value.record), w.value.lastResort ? 1 : 0, w.value.createdAt, w.value.replacedAt]);
        else this.db.prepare('DELETE FROM kyber_prekeys WHERE id = ?').run([w.key]);
        return;
      case 'senderkey':
        if (w.value)
          this.db
            .prepare(
              'INSERT OR REPLACE INTO sender_keys (address, distribution_id, record, updated_at) VALUES (?, ?, ?, ?)',
            )
            .run([w.value.address, w.value.distributionId, u8(w.value.record), now]);
        else {
          const [address, distributionId] = w.key.split('|');
          this.db.prepare('DELETE FROM sender_keys WHERE address = ? AND distribution_id = ?').run([address!, distributionId!]);
        }
        return;
    }
  }

  // ---- sessions ----
  getSession(address: string, zone?: Zone): Bytes | undefined {
    const z = zone?.get('session', address);
    if (z) return z.value?.record;
    const row = this.db.prepare('SELECT record FROM sessions WHERE address = ?').get([address]);
    return row ? u8(row.record) : undefined;
  }

  saveSession(address: string, record: Bytes, zone?: Zone): void {
    const { accountId, deviceId } = splitAddress(address);
    this.write({ t: 'session', key: address, value: { address, accountId, deviceId, record } }, zone);
  }

  deleteSession(address: string, zone?: Zone): void {
    this.write({ t: 'session', key: address, value: null }, zone);
  }

  sessionsForAccount(accountId: string, zone?: Zone): SessionRow[] {
    const rows = new Map<string, SessionRow>();
    for (const r of this.db
      .prepare('SELECT address, account_id, device_id, record FROM sessions WHERE account_id = ?')
      .all([accountId]))
      rows.set(r.address as string, {
        address: r.address as string,
        accountId: r.account_id as string,
        deviceId: Number(r.device_id),
        record: u8(r.record),
      });
    for (const w of zone?.of('session') ?? []) {
      if (splitAddress(w.key).accountId !== accountId) continue;
      if (w.value) rows.set(w.key, w.value);
      else rows.delete(w.key);
    }
    return [...rows.values()].sort((a, b) => a.deviceId - b.deviceId);
  }

  /**
   * deviceId → remote registration id of each device of `accountId` we hold a usable
   * committed session with, ascending. Not for use inside a transaction (it would cache
   * what a rollback may undo).
   */
  usableSessions(accountId: string): ReadonlyMap<number, number> {
    let m = this.usableByAccount.get(accountId);
    if (!m) {
      const found = new Map<number, number>();
      for (const s of this.sessionsForAccount(accountId)) {
        const registrationId = usableRegistration(s.record);
        if (registrationId !== undefined) found.set(s.deviceId, registrationId);
      }
      this.usableByAccount.set(accountId, (m = found));
    }
    return m;
  }

  /** Devices of `accountId` we hold a usable committed session with, ascending. */
  usableDevices(accountId: string): number[] {
    return [...this.usableSessions(accountId).keys()];
  }

  deleteSessionsForAccount(accountId: string, zone?: Zone): void {
    for (const s of this.sessionsForAccount(accountId, zone)) this.deleteSession(s.address, zone);
  }

  // ---- identities ----
  getIdentity(accountId: string, zone?: Zone): IdentityRow | undefined {
    const z = zone?.get('identity', accountId);
    if (z) return z.value ?? undefined;
    const r = this.db.prepare('SELECT * FROM identities WHERE account_id = ?').get([accountId]);
    if (!r) return undefined;
    return {
      accountId: r.account_id as string,
      publicKey: u8(r.public_key),
      status: r.status as IdentityStatus,
      pendingKey: r.pending_key ? u8(r.pending_key) : null,
      verified: Number(r.verified) === 1,
      firstSeen: Number(r.first_seen),
      updatedAt: Number(r.updated_at),
    };
  }

  putIdentity(row: IdentityRow, zone?: Zone): void {
    this.write({ t: 'identity', key: row.accountId, value: row }, zone);
  }

  // ---- one-time EC prekeys ----
  getPreKey(id: number, zone?: Zone): Bytes | undefined {
    const z = zone?.get('prekey', id);
    if (z) return z.value ?? undefined;
    const r = this.db.prepare('SELECT record FROM prekeys WHERE id = ?').get([id]);
    return r ? u8(r.record) : undefined;
  }
  savePreKey(id: number, record: Bytes, zone?: Zone): void {
    this.write({ t: 'prekey', key: id, value: record }, zone);
  }
  removePreKey(id: number, zone?: Zone): void {
    this.write({ t: 'prekey', key: id, value: null }, zone);
  }
  countPreKeys(): number {
    return Number(this.db.prepare('SELECT count(*) AS n FROM prekeys').get()!.n);
  }

  // ---- signed prekeys ----
  getSignedPreKey(id: number, zone?: Zone): SignedKeyRow | undefined {
    const z = zone?.get('signed', id);
    if (z) return z.value ?? undefined;
    const r = this.db.prepare('SELECT * FROM signed_prekeys WHERE id = ?').get([id]);
    return r ? signedRow(r) : undefined;
  }
  saveSignedPreKey(row: SignedKeyRow, zone?: Zone): void {
    this.write({ t: 'signed', key: row.id, value: row }, zone);
  }
  removeSignedPreKey(id: number, zone?: Zone): void {
    this.write({ t: 'signed', key: id, value: null }, zone);
  }
  listSignedPreKeys(): SignedKeyRow[] {
    return this.db
      .prepare('SELECT * FROM signed_prekeys ORDER BY created_at, id')
      .all()
      .map(signedRow);
  }

  // ---- Kyber prekeys ----
  getKyberPreKey(id: number, zone?: Zone): KyberKeyRow | undefined {
    const z = zone?.get('kyber', id);
    if (z) return z.value ?? undefined;
    const r = this.db.prepare('SELECT * FROM kyber_prekeys WHERE id = ?').get([id]);
    return r ? kyberRow(r) : undefined;
  }
  saveKyberPreKey(row: KyberKeyRow, zone?: Zone): void {
    this.write({ t: 'kyber', key: row.id, value: row }, zone);
  }
  /** One-time Kyber keys are deleted once used; last-resort keys are kept. */
  markKyberPreKeyUsed(id: number, zone?: Zone): void {
    const row = this.getKyberPreKey(id, zone);
    if (row && !row.lastResort) this.write({ t: 'kyber', key: id, value: null }, zone);
  }
  removeKyberPreKey(id: number, zone?: Zone): void {
    this.write({ t: 'kyber', key: id, value: null }, zone);
  }
  listKyberPreKeys(lastResort: boolean): KyberKeyRow[] {
    return this.db
      .prepare('SELECT * FROM kyber_prekeys WHERE last_resort = ? ORDER BY created_at, id')
      .all([lastResort ? 1 : 0])
      .map(kyberRow);
  }
  countKyberPreKeys(): number {
    return Number(this.db.prepare('SELECT count(*) AS n FROM kyber_prekeys WHERE last_resort = 0').get()!.n);
  }

  // ---- sender keys ----
  getSenderKey(address: string, distributionId: string, zone?: Zone): Bytes | undefined {
    const z = zone?.get('senderkey', `${address}|${distributionId}`);
    if (z) return z.value?.record;
    const r = this.db
      .prepare('SELECT record FROM sender_keys WHERE address = ? AND distribution_id = ?')
      .get([address, distributionId]);
    return r ? u8(r.record) : undefined;
  }
  saveSenderKey(address: string, distributionId: string, record: Bytes, zone?: Zone): void {
    this.write({ t: 'senderkey', key: `${address}|${distributionId}`, value: { address, distributionId, record } }, zone);
  }

  deleteIdentity(accountId: string, zone?: Zone): void {
    this.write({ t: 'identity', key: accountId, value: null }, zone);
  }

  /**
   * After a new identity key: forget every session and sender key, and every own key except
   * the ones listed (the freshly generated set).
   */
  resetForNewIdentity(keep: { preKeys: number[]; signedPreKeys: number[]; kyberPreKeys: number[] }): void {
    this.transaction(() => {
      this.db.exec('DELETE FROM sessions; DELETE FROM sender_keys;');
      const del = (table: string, ids: number[]) =>
        this.db.prepare(`DELETE FROM ${table} WHERE id NOT IN (SELECT value FROM json_each(?))`).run([JSON.stringify(ids)]);
      del('prekeys', keep.preKeys);
      del('signed_prekeys', keep.signedPreKeys);
      del('kyber_prekeys', keep.kyberPreKeys);
    });
  }

  /** Forget all keys (a registration that the server refused). */
  wipeOwnKeys(): void {
    this.db.exec('DELETE FROM prekeys; DELETE FROM signed_prekeys; DELETE FROM kyber_prekeys;');
  }
}

function signedRow(r: Record<string, unknown>): SignedKeyRow {
  return {
    id: Number(r.id),
    record: u8(r.record),
    createdAt: Number(r.created_at),
    replacedAt: (r.replaced_at as number | null) ?? null,
  };
}

function kyberRow(r: Record<string, unknown>): KyberKeyRow {
  return { ...signedRow(r), lastResort: Number(r.last_resort) === 1 };
}
