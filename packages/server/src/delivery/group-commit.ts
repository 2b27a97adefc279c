import { ErrorCode, SHORT_LIVED_TTL_MS } from '@kluis/protocol';
import type { Db, Executor } from '../db/schema.js';
import { ApiError, isStorageFull, storageFull, storeUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeviceStore } from '../store/devices.js';
import type { EnvelopeStore, NewEnvelope } from '../store/envelopes.js';
import { deviceKey, type Bus, type LiveEnvelope, type OnlineEnvelope } from './bus.js';
import type { MultiSendCommand, MultiSendSubmitter } from './multi-send.js';
import { SEALED_SENDER } from '../sealed/sealed-send.js';
import { coarsen, coarsenUp, envelopeTimeStep } from '../store/coarse-time.js';
import { deviceDifferences, reconcileDevices, type DeviceDifferences } from './reconcile.js';
import { isSealed, type SendCommand, type SendOutcome, type SendSubmitter } from './send.js';

export interface GroupCommitDeps {
  db: Db;
  devices: DeviceStore;
  envelopes: EnvelopeStore;
  bus: Bus;
  clock: () => number;
  envelopeTtlMs: number;
  log: Logger;
  /** Resolves once everything committed so far is on disk (DatabaseAdapter.syncCommitted). */
  durable: () => Promise<void>;
  /** Counts failed commits (metrics). */
  onStoreError?: () => void;
  /** A write failed because the disk is full (ops/storage-guard.ts); nothing is logged here. */
  onStorageFull?: (err: unknown) => void;
  /** Counts committed envelope rows (metrics). */
  onQueued?: (count: number) => void;
  /** Sends per transaction; the rest waits for the next one. */
  maxBatch?: number;
  /** Envelope rows per transaction (a multi send counts all its devices); at least one send always goes. */
  maxBatchRows?: number;
}

interface PendingSend {
  command: SendCommand | MultiSendCommand;
  resolve: (outcome: SendOutcome) => void;
}

/** What a batch stages before writing: rows to insert (with their push keys) and online-only pushes. */
interface Staging {
  /** The coarse server time stored and pushed (store/coarse-time.ts). */
  now: number;
  /** expires_at of this batch's rows, as coarse. */
  expiresAt: number;
  /** expires_at of its short-lived rows (call signals): on the same grid, rounded up. */
  shortLivedExpiresAt: number;
  rows: NewEnvelope[];
  pushes: string[];
  online: Map<string, OnlineEnvelope[]>;
}

interface PendingAck {
  accountId: string;
  deviceId: number;
  guids: readonly string[];
}

interface PendingTouch {
  accountId: string;
  deviceId: number;
  day: number;
}

interface Committed {
  sends: PendingSend[];
  outcomes: SendOutcome[];
  live: Map<string, LiveEnvelope[]>;
  online: Map<string, OnlineEnvelope[]>;
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Group commit: everything submitted within one turn of the event loop (sends, acks,
 * last-seen updates) is written in ONE transaction. A send's promise resolves only
 * after that transaction is committed AND durable, so the sender's ack always means
 * "stored for every destination device". Batches are pipelined: while batch N waits
 * for its fsync (off the event loop), batch N+1 is already being committed. Live
 * pushes happen right after each commit, in commit order, so queue order holds.
 * A multi-recipient send is one unit: all its rows in one transaction, or none. Online-
 * only sends ride along for the device-list check, store nothing, and are answered
 * right after the commit.
 */
export class GroupCommitWriter implements SendSubmitter, MultiSendSubmitter {
  private sends: PendingSend[] = [];
  private acks: PendingAck[] = [];
  /** Queue positions of acked envelopes whose owner is already known (pushed on that device's socket: delivery/pushed-envelopes.ts). */
  private ackedIds: number[] = [];
  private touches: PendingTouch[] = [];
  private scheduled = false;
  private running = false;
  private closed = false;
  /** Post-commit work (wait for durability, answer, push), chained in commit order. */
  private settling: Promise<void> = Promise.resolve();
  private unsettled = 0;
  private idleWaiters: Array<() => void> = [];
  private readonly maxBatch: number;
  private readonly maxBatchRows: number;

  constructor(private readonly deps: GroupCommitDeps) {
    this.maxBatch = deps.maxBatch ?? 1000;
    this.maxBatchRows = deps.maxBatchRows ?? 20_000;
  }

  submit(command: SendCommand): Promise<SendOutcome> {
    return this.enqueue(command);
  }

  /** A multi-recipient send: all its rows go in one transaction, or none (404/409/410). */
  submitMulti(command: MultiSendCommand): Promise<SendOutcome> {
    return this.enqueue(command);
  }

  private enqueue(command: SendCommand | MultiSendCommand): Promise<SendOutcome> {
    if (this.closed) return Promise.resolve({ ok: false, error: shuttingDown() });
    return new Promise((resolve) => {
      this.sends.push({ command, resolve });
      this.schedule();
    });
  }

  /** Deletes acknowledged envelopes (only this device's). Losing an ack costs a redelivery, never a message. */
  ack(accountId: string, deviceId: number, guids: readonly string[]): void {
    if (this.closed) return;
    this.acks.push({ accountId, deviceId, guids });
    this.schedule();
  }

  /**
   * Deletes acknowledged envelopes by queue position. Only for ids the caller knows to
   * belong to the acking device (a socket acking what it pushed itself).
   */
  ackIds(ids: readonly number[]): void {
    if (this.closed) return;
    for (const id of ids) this.ackedIds.push(id);
    this.schedule();
  }

  /** Records the day a device connected (rounded to midnight UTC). */
  touch(accountId: string, deviceId: number, now: number): void {
    if (this.closed) return;
    this.touches.push({ accountId, deviceId, day: Math.floor(now / DAY_MS) * DAY_MS });
    this.schedule();
  }

  /** Resolves once everything submitted so far is committed, durable and answered. */
  idle(): Promise<void> {
    if (this.isIdle()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Refuses new sends (503), then finishes what was accepted. */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private isIdle(): boolean {
    return !this.running && !this.scheduled && !this.hasWork() && this.unsettled === 0;
  }

  private checkIdle(): void {
    if (this.isIdle()) for (const resolve of this.idleWaiters.splice(0)) resolve();
  }

  private hasWork(): boolean {
    return this.sends.length > 0 || this.acks.length > 0 || this.ackedIds.length > 0 || this.touches.length > 0;
  }

  private schedule(): void {
    if (this.scheduled || this.running) return;
    this.scheduled = true;
    // setImmediate, not a microtask: lets the event loop read every socket that has
    // data first, so one transaction takes everything that arrived meanwhile.
    setImmediate(() => void this.flush());
  }

  private async flush(): Promise<void> {
    this.scheduled = false;
    this.running = true;
    try {
      const sends = this.takeSends();
      const acks = this.acks.splice(0);
      const ackedIds = this.ackedIds.splice(0);
      const touches = this.touches.splice(0);
      const committed = await this.commit(sends, acks, ackedIds, touches);
      if (committed) this.afterCommit(committed);
    } finally {
      this.running = false;
      if (this.hasWork()) this.schedule();
      else this.checkIdle();
    }
  }

  /** The next batch: up to maxBatch sends and about maxBatchRows rows, at least one send. */
  private takeSends(): PendingSend[] {
    const limit = Math.min(this.sends.length, this.maxBatch);
    let rows = 0;
    let n = 0;
    while (n < limit) {
      const c = this.sends[n++]!.command;
      rows += 'destinations' in c ? c.deviceCount : c.messages.length;
      if (rows >= this.maxBatchRows) break;
    }
    return n === this.sends.length ? this.sends.splice(0) : this.sends.splice(0, n);
  }

  private afterCommit(c: Committed): void {
    // Push at once, in commit order: delivery latency does not include the fsync. A
    // receiver may thus see an envelope whose sender is still waiting for its ack; if
    // the disk sync then failed, the sender retries and the client drops the duplicate.
    for (const [key, list] of c.live) this.deps.bus.publish(key, { type: 'envelopes', envelopes: list });
    for (const [key, list] of c.online) this.deps.bus.publish(key, { type: 'online', envelopes: list });
    // Online-only sends stored nothing: their answer does not wait for the disk.
    if (c.sends.some((s) => s.command.online)) c = answerOnline(c);
    const durable = this.deps.durable();
    this.unsettled++;
    this.settling = this.settling
      .then(() => durable)
      .then(
        () => {
          for (let i = 0; i < c.sends.length; i++) c.sends[i]!.resolve(c.outcomes[i]!);
        },
        (err: unknown) => {
          const full = isStorageFull(err);
          if (full) this.deps.onStorageFull?.(err);
          else this.deps.log.error('syncing committed messages to disk failed', err);
          for (const s of c.sends) s.resolve({ ok: false, error: full ? storageFull() : unavailable() });
        },
      )
      .finally(() => {
        this.unsettled--;
        this.checkIdle();
      });
  }

  private async commit(sends: PendingSend[], acks: PendingAck[], ackedIds: number[], touches: PendingTouch[]): Promise<Committed | undefined> {
    const { db, devices, envelopes, clock, envelopeTtlMs } = this.deps;
    const step = envelopeTimeStep(envelopeTtlMs);
    const exact = clock();
    const now = coarsen(exact, step);
    const outcomes: SendOutcome[] = new Array(sends.length);
    const live = new Map<string, LiveEnvelope[]>();
    const online = new Map<string, OnlineEnvelope[]>();
    try {
      await db.transaction().execute(async (trx: Executor) => {
        live.clear();
        online.clear();
        const registrations = await this.loadRegistrations(trx, sends);
        const rows: NewEnvelope[] = [];
        const pushes: string[] = [];
        const expiresAt = coarsen(exact + envelopeTtlMs, step);
        // Rounded up, to the regular rows' step: never gone before SHORT_LIVED_TTL_MS, and no
        // finer a time than any other row's (one that could join a sealed envelope to its
        // sender's sync copy). Never later than a regular row (a queue TTL under 2 min: tests).
        const shortLivedExpiresAt = Math.min(expiresAt, coarsenUp(exact + SHORT_LIVED_TTL_MS, step));
        const staging: Staging = { now, expiresAt, shortLivedExpiresAt, rows, pushes, online };
        for (let i = 0; i < sends.length; i++) {
          const command = sends[i]!.command;
          if ('destinations' in command) {
            outcomes[i] = stageMulti(command, registrations, staging);
            continue;
          }
          const accountDevices = registrations.get(command.destination);
          if (!accountDevices) {
            outcomes[i] = { ok: false, error: new ApiError(ErrorCode.NotFound, 'no account with that id') };
            continue;
          }
          const ownAccount = command.destination === command.sender.accountId;
          const input = { devices: accountDevices, messages: command.messages, resend: command.resend };
          // A sealed sync copy leaves out the sending device, which the server cannot name.
          const skipped = command.sender === SEALED_SENDER && !command.resend ? leftOutOne(deviceDifferences(input)) : undefined;
          const mismatch = reconcileDevices({ ...input, excludeDeviceId: ownAccount ? command.sender.deviceId : skipped });
          if (mismatch) {
            outcomes[i] = { ok: false, error: mismatch };
            continue;
          }
          stage(command.sender, command.destination, command.timestamp, command, command.messages, staging);
          outcomes[i] = { ok: true, response: { serverTimestamp: now, ...(skipped !== undefined ? { skippedDevices: [skipped] } : {}) } };
        }
        const ids = await envelopes.insertMany(trx, rows);
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i]!;
          const key = pushes[i]!;
          const envelope: LiveEnvelope = {
            id: ids[i]!,
            guid: r.guid,
            type: r.type,
            sourceAccount: r.sourceAccount,
            sourceDevice: r.sourceDevice,
            timestamp: r.timestamp,
            serverTimestamp: now,
            content: r.content,
          };
          const list = live.get(key);
          if (list) list.push(envelope);
          else live.set(key, [envelope]);
        }
        if (acks.length > 0) await envelopes.deleteAcked(trx, acks);
        if (ackedIds.length > 0) await envelopes.deleteByIds(trx, ackedIds);
        for (const t of touches) await devices.touch(trx, t.accountId, t.deviceId, t.day);
      });
    } catch (err) {
      // A full disk is told to the storage guard, which logs it once per interval.
      const full = isStorageFull(err);
      if (full) this.deps.onStorageFull?.(err);
      else {
        this.deps.onStoreError?.();
        this.deps.log.error('group commit failed; the batch was not stored', err);
      }
      for (const s of sends) s.resolve({ ok: false, error: full ? storageFull() : unavailable() });
      return undefined;
    }
    if (live.size > 0) {
      let n = 0;
      for (const list of live.values()) n += list.length;
      this.deps.onQueued?.(n);
    }
    return { sends, outcomes, live, online };
  }

  private async loadRegistrations(trx: Executor, sends: PendingSend[]): Promise<Map<string, Map<number, number>>> {
    const byAccount = new Map<string, Map<number, number>>();
    if (sends.length === 0) return byAccount;
    const ids = new Set<string>();
    for (const { command } of sends) {
      if ('destinations' in command) for (const d of command.destinations) ids.add(d.accountId);
      else ids.add(command.destination);
    }
    const accountIds = [...ids];
    for (const r of await this.deps.devices.registrations(trx, accountIds)) {
      let m = byAccount.get(r.accountId);
      if (!m) byAccount.set(r.accountId, (m = new Map()));
      m.set(r.deviceId, r.registrationId);
    }
    return byAccount;
  }
}

/** Answers the online-only sends of a committed batch; returns the rest. */
function answerOnline(c: Committed): Committed {
  const sends: PendingSend[] = [];
  const outcomes: SendOutcome[] = [];
  for (let i = 0; i < c.sends.length; i++) {
    const s = c.sends[i]!;
    if (s.command.online) s.resolve(c.outcomes[i]!);
    else {
      sends.push(s);
      outcomes.push(c.outcomes[i]!);
    }
  }
  return { ...c, sends, outcomes };
}

/** Rows (stored sends) or online pushes for one destination account. An online short-lived send is just online. */
function stage(
  sender: { accountId: string; deviceId: number },
  accountId: string,
  clientTimestamp: number,
  kind: { online: boolean; shortLived: boolean },
  messages: SendCommand['messages'],
  st: Staging,
): void {
  const isOnline = kind.online;
  const expiresAt = kind.shortLived ? st.shortLivedExpiresAt : st.expiresAt;
  for (const m of messages) {
    const sealed = isSealed(m.type);
    const sourceAccount = sealed ? null : sender.accountId;
    const sourceDevice = sealed ? null : sender.deviceId;
    // 0 = none: a client's timestamp on a sealed envelope would join it to its sender's other rows.
    const timestamp = sealed ? 0 : clientTimestamp;
    const key = deviceKey(accountId, m.deviceId);
    if (isOnline) {
      const e: OnlineEnvelope = { guid: m.guid, type: m.type, sourceAccount, sourceDevice, timestamp, serverTimestamp: st.now, content: m.content };
      const list = st.online.get(key);
      if (list) list.push(e);
      else st.online.set(key, [e]);
      continue;
    }
    st.rows.push({
      guid: m.guid,
      accountId,
      deviceId: m.deviceId,
      type: m.type,
      sourceAccount,
      sourceDevice,
      timestamp,
      serverTimestamp: st.now,
      content: m.content,
      expiresAt,
    });
    st.pushes.push(key);
  }
}

/**
 * Every destination must reconcile before anything is staged: unknown accounts (404)
 * first, then device-list mismatches (409), then stale registrations (410), each
 * reported for all affected accounts at once.
 */
function stageMulti(command: MultiSendCommand, registrations: Map<string, Map<number, number>>, st: Staging): SendOutcome {
  const unknownAccounts: string[] = [];
  const mismatched: Array<{ accountId: string; missingDevices: number[]; extraDevices: number[] }> = [];
  const stale: Array<{ accountId: string; staleDevices: number[] }> = [];
  const diffs: Array<{ accountId: string; devices: Map<number, number>; messages: SendCommand['messages']; diff: DeviceDifferences }> = [];
  for (const d of command.destinations) {
    const devices = registrations.get(d.accountId);
    if (!devices) {
      unknownAccounts.push(d.accountId);
      continue;
    }
    const own = d.accountId === command.sender.accountId;
    const diff = deviceDifferences({ devices, excludeDeviceId: own ? command.sender.deviceId : undefined, messages: d.messages, resend: false });
    diffs.push({ accountId: d.accountId, devices, messages: d.messages, diff });
  }
  // A sealed fan-out lists the sender's own account (so the recipient set is the whole
  // group) but not the sending device, which the server cannot name: one device left
  // out in all is taken to be that one, and reported back in `skipped`.
  let skipped: { accountId: string; deviceId: number } | undefined;
  if (command.sender === SEALED_SENDER && !command.sealedExcludes) {
    const missing = diffs.filter((x) => x.diff.missing.length > 0 || x.diff.extra.length > 0);
    const one = missing.length === 1 ? leftOutOne(missing[0]!.diff) : undefined;
    if (one !== undefined) {
      const x = missing[0]!;
      skipped = { accountId: x.accountId, deviceId: one };
      x.diff = deviceDifferences({ devices: x.devices, excludeDeviceId: one, messages: x.messages, resend: false });
    }
  }
  for (const { accountId, diff } of diffs) {
    if (diff.missing.length > 0 || diff.extra.length > 0) mismatched.push({ accountId, missingDevices: diff.missing, extraDevices: diff.extra });
    else if (diff.stale.length > 0) stale.push({ accountId, staleDevices: diff.stale });
  }
  if (unknownAccounts.length > 0) {
    return { ok: false, error: new ApiError(ErrorCode.NotFound, `${unknownAccounts.length} of the accounts do not exist`, { unknownAccounts }) };
  }
  if (mismatched.length > 0) {
    return {
      ok: false,
      error: new ApiError(ErrorCode.MismatchedDevices, `the device lists of ${mismatched.length} accounts are out of date`, { mismatched }),
    };
  }
  if (stale.length > 0) {
    return {
      ok: false,
      error: new ApiError(ErrorCode.StaleDevices, `devices of ${stale.length} accounts were re-registered; fetch their keys again`, { stale }),
    };
  }
  const withheld = command.withheld;
  for (const d of command.destinations) {
    const messages = withheld ? d.messages.filter((m) => !withheld.has(deviceKey(d.accountId, m.deviceId))) : d.messages;
    stage(command.sender, d.accountId, command.timestamp, command, messages, st);
  }
  return { ok: true, response: { serverTimestamp: st.now, ...(skipped ? { skipped: [skipped] } : {}) } };
}

/** The one device a send left out, when that is its only difference from the account's list. */
function leftOutOne(diff: DeviceDifferences): number | undefined {
  return diff.missing.length === 1 && diff.extra.length === 0 ? diff.missing[0] : undefined;
}

function unavailable(): ApiError {
  // With a retry hint: the usual cause in cluster mode is an unreachable database.
  return storeUnavailable('the message could not be stored; try again shortly');
}

function shuttingDown(): ApiError {
  return new ApiError(ErrorCode.Unavailable, 'the server is shutting down; try again shortly');
}
