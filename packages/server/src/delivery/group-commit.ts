import { ErrorCode } from '@kluis/protocol';
import type { Db, Executor } from '../db/schema.js';
import { ApiError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { DeviceStore } from '../store/devices.js';
import type { EnvelopeStore } from '../store/envelopes.js';
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

const DAY_MS = 24 * 60 * 60 * 1000;

/**
 * Group commit: everything submitted within one turn of the event loop (sends, acks,
 * last-seen updates) is written in ONE transaction, so one fsync covers hundreds of
 * messages. A send's promise resolves only after that transaction committed: the
 * sender's ack always means "durably stored for every destination device". While a
 * commit runs, new work queues up and goes into the next transaction.
 */
export class GroupCommitWriter implements SendSubmitter {
  private sends: PendingSend[] = [];
  private acks: PendingAck[] = [];
  private touches: PendingTouch[] = [];
  private scheduled = false;
  private running = false;
  private closed = false;
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

  /** Records the day a device connected (rounded to midnight UTC). */
  touch(accountId: string, deviceId: number, now: number): void {
    if (this.closed) return;
    this.touches.push({ accountId, deviceId, day: Math.floor(now / DAY_MS) * DAY_MS });
    this.schedule();
  }

  /** Resolves once everything submitted so far is committed. */
  idle(): Promise<void> {
    if (!this.running && !this.scheduled && !this.hasWork()) return Promise.resolve();
    return new Promise((resolve) => this.idleWaiters.push(resolve));
  }

  /** Commits what is queued, then refuses new sends (503). */
  async close(): Promise<void> {
    this.closed = true;
    await this.idle();
  }

  private hasWork(): boolean {
    return this.sends.length > 0 || this.acks.length > 0 || this.touches.length > 0;
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
      const touches = this.touches.splice(0);
      await this.commit(sends, acks, touches);
    } finally {
      this.running = false;
      if (this.hasWork()) this.schedule();
      else for (const resolve of this.idleWaiters.splice(0)) resolve();
    }
  }

  private async commit(sends: PendingSend[], acks: PendingAck[], touches: PendingTouch[]): Promise<void> {
    const { db, devices, envelopes, clock, envelopeTtlMs } = this.deps;
    const now = clock();
    const outcomes: SendOutcome[] = new Array(sends.length);
    const live = new Map<string, LiveEnvelope[]>();
    try {
      await db.transaction().execute(async (trx: Executor) => {
        live.clear();
        const registrations = await this.loadRegistrations(trx, sends);
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
            const envelope = {
              guid: m.guid,
              type: m.type,
              sourceAccount: sealed ? null : command.sender.accountId,
              sourceDevice: sealed ? null : command.sender.deviceId,
              timestamp: command.timestamp,
              serverTimestamp: now,
              content: m.content,
            };
            const id = await envelopes.insert(trx, {
              ...envelope,
              accountId: command.destination,
              deviceId: m.deviceId,
              expiresAt: now + envelopeTtlMs,
            });
            const key = deviceKey(command.destination, m.deviceId);
            const list = live.get(key);
            if (list) list.push({ id, ...envelope });
            else live.set(key, [{ id, ...envelope }]);
          }
          outcomes[i] = { ok: true, response: { serverTimestamp: now } };
        }
        for (const a of acks) await envelopes.deleteByGuids(trx, a.accountId, a.deviceId, a.guids);
        for (const t of touches) await devices.touch(trx, t.accountId, t.deviceId, t.day);
      });
    } catch (err) {
      this.deps.log.error('group commit failed; the batch was not stored', err);
      for (const s of sends) s.resolve({ ok: false, error: new ApiError(ErrorCode.Unavailable, 'the message could not be stored; try again') });
      return;
    }
    for (let i = 0; i < sends.length; i++) sends[i]!.resolve(outcomes[i]!);
    // After the commit, in commit order: a socket never sees an envelope that is not durable.
    for (const [key, list] of live) this.deps.bus.publish(key, { type: 'envelopes', envelopes: list });
  }

  private async loadRegistrations(trx: Executor, sends: PendingSend[]): Promise<Map<string, Map<number, number>>> {
    const accountIds = [...new Set(sends.map((s) => s.command.destination))];
    const byAccount = new Map<string, Map<number, number>>();
    if (accountIds.length === 0) return byAccount;
    for (const r of await this.deps.devices.registrations(trx, accountIds)) {
      let m = byAccount.get(r.accountId);
      if (!m) byAccount.set(r.accountId, (m = new Map()));
      m.set(r.deviceId, r.registrationId);
    }
    return byAccount;
  }
}

function shuttingDown(): ApiError {
  return new ApiError(ErrorCode.Unavailable, 'the server is shutting down; try again shortly');
}
