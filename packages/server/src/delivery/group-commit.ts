import { ErrorCode } from '@kluis/protocol';
import type { Db, Executor } from '../db/schema.js';
import { ApiError, storeUnavailable } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeviceStore } from '../store/devices.js';
import type { EnvelopeStore, NewEnvelope } from '../store/envelopes.js';
import { deviceKey, type Bus, type LiveEnvelope } from './bus.js';
import { reconcileDevices } from './reconcile.js';
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
  /** Counts committed envelope rows (metrics). */
  onQueued?: (count: number) => void;
  /** Sends per transaction; the rest waits for the next one. */
  maxBatch?: number;
}

interface PendingSend {
  command: SendCommand;
  resolve: (outcome: SendOutcome) => void;
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
}

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Group commit: everything submitted within one turn of the event loop (sends, acks,
 * last-seen updates) is written in ONE transaction. A send's promise resolves only
 * after that transaction is committed AND durable, so the sender's ack always means
 * "stored for every destination device". Batches are pipelined: while batch N waits
 * for its fsync (off the event loop), batch N+1 is already being committed. Live
 * pushes happen right after each commit, in commit order, so queue order holds.
 */
export class GroupCommitWriter implements SendSubmitter {
  private sends: PendingSend[] = [];
  private acks: PendingAck[] = [];
  /** Queue positions of acked envelopes whose owner is already known (see DeviceConnection). */
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

  constructor(private readonly deps: GroupCommitDeps) {
    this.maxBatch = deps.maxBatch ?? 1000;
  }

  submit(command: SendCommand): Promise<SendOutcome> {
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
      const sends = this.sends.length > this.maxBatch ? this.sends.splice(0, this.maxBatch) : this.sends.splice(0);
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

  private afterCommit(c: Committed): void {
    // Push at once, in commit order: delivery latency does not include the fsync. A
    // receiver may thus see an envelope whose sender is still waiting for its ack; if
    // the disk sync then failed, the sender retries and the client drops the duplicate.
    for (const [key, list] of c.live) this.deps.bus.publish(key, { type: 'envelopes', envelopes: list });
    const durable = this.deps.durable();
    this.unsettled++;
    this.settling = this.settling
      .then(() => durable)
      .then(
        () => {
          for (let i = 0; i < c.sends.length; i++) c.sends[i]!.resolve(c.outcomes[i]!);
        },
        (err: unknown) => {
          this.deps.log.error('syncing committed messages to disk failed', err);
          for (const s of c.sends) s.resolve({ ok: false, error: unavailable() });
        },
      )
      .finally(() => {
        this.unsettled--;
        this.checkIdle();
      });
  }

  private async commit(sends: PendingSend[], acks: PendingAck[], ackedIds: number[], touches: PendingTouch[]): Promise<Committed | undefined> {
    const { db, devices, envelopes, clock, envelopeTtlMs } = this.deps;
    const now = clock();
    const outcomes: SendOutcome[] = new Array(sends.length);
    const live = new Map<string, LiveEnvelope[]>();
    try {
      await db.transaction().execute(async (trx: Executor) => {
        live.clear();
        const registrations = await this.loadRegistrations(trx, sends);
        const rows: NewEnvelope[] = [];
        const pushes: Array<{ key: string; contentBase64: string }> = [];
        for (let i = 0; i < sends.length; i++) {
          const command = sends[i]!.command;
          const accountDevices = registrations.get(command.destination);
          if (!accountDevices) {
            outcomes[i] = { ok: false, error: new ApiError(ErrorCode.NotFound, 'no account with that id') };
            continue;
          }
          const ownAccount = command.destination === command.sender.accountId;
          const mismatch = reconcileDevices({
            devices: accountDevices,
            excludeDeviceId: ownAccount ? command.sender.deviceId : undefined,
            messages: command.messages,
            resend: command.resend,
          });
          if (mismatch) {
            outcomes[i] = { ok: false, error: mismatch };
            continue;
          }
          for (const m of command.messages) {
            const sealed = isSealed(m.type);
            rows.push({
              guid: m.guid,
              accountId: command.destination,
              deviceId: m.deviceId,
              type: m.type,
              sourceAccount: sealed ? null : command.sender.accountId,
              sourceDevice: sealed ? null : command.sender.deviceId,
              timestamp: command.timestamp,
              serverTimestamp: now,
              content: m.content,
              expiresAt: now + envelopeTtlMs,
            });
            pushes.push({ key: deviceKey(command.destination, m.deviceId), contentBase64: m.contentBase64 });
          }
          outcomes[i] = { ok: true, response: { serverTimestamp: now } };
        }
        const ids = await envelopes.insertMany(trx, rows);
        for (let i = 0; i < rows.length; i++) {
          const r = rows[i]!;
          const { key, contentBase64 } = pushes[i]!;
          const envelope: LiveEnvelope = {
            id: ids[i]!,
            guid: r.guid,
            type: r.type,
            sourceAccount: r.sourceAccount,
            sourceDevice: r.sourceDevice,
            timestamp: r.timestamp,
            serverTimestamp: now,
            content: r.content,
            contentBase64,
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
      this.deps.onStoreError?.();
      this.deps.log.error('group commit failed; the batch was not stored', err);
      for (const s of sends) s.resolve({ ok: false, error: unavailable() });
      return undefined;
    }
    if (live.size > 0) {
      let n = 0;
      for (const list of live.values()) n += list.length;
      this.deps.onQueued?.(n);
    }
    return { sends, outcomes, live };
  }

  private async loadRegistrations(trx: Executor, sends: PendingSend[]): Promise<Map<string, Map<number, number>>> {
    const byAccount = new Map<string, Map<number, number>>();
    if (sends.length === 0) return byAccount;
    const accountIds = [...new Set(sends.map((s) => s.command.destination))];
    for (const r of await this.deps.devices.registrations(trx, accountIds)) {
      let m = byAccount.get(r.accountId);
      if (!m) byAccount.set(r.accountId, (m = new Map()));
      m.set(r.deviceId, r.registrationId);
    }
    return byAccount;
  }
}

function unavailable(): ApiError {
  // With a retry hint: the usual cause in cluster mode is an unreachable database.
  return storeUnavailable('the message could not be stored; try again shortly');
}

function shuttingDown(): ApiError {
  return new ApiError(ErrorCode.Unavailable, 'the server is shutting down; try again shortly');
}
