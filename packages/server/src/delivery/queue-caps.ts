import { ErrorCode, type MultiSendResponse } from '@kluis/protocol';
import { ApiError } from '../errors.js';
import { deviceKey } from './bus.js';
import type { MultiSendCommand, MultiSendSubmitter } from './multi-send.js';
import type { SendCommand, SendOutcome, SendSubmitter } from './send.js';

/** What one send adds to one device's queue. */
export interface QueueTarget {
  key: string;
  accountId: string;
  deviceId: number;
  count: number;
  bytes: number;
}

/** A device's stored queue as the database counts it. */
export interface QueueUsage {
  accountId: string;
  deviceId: number;
  count: number;
  bytes: number;
}

export interface QueueCapsOptions {
  maxEnvelopes: number;
  maxBytes: number;
  clock: () => number;
  /** Reads the stored count and bytes of these devices' queues (one query). */
  load(devices: ReadonlyArray<{ accountId: string; deviceId: number }>): Promise<QueueUsage[]>;
  /**
   * A device's figures are read again from the database once they are this old, at its
   * next send: the database is the truth, this node's figures are an upper bound between
   * reads (acks and expiry are not counted down here, inserts of other nodes not up).
   */
  reseedMs?: number;
  /** A device found full is read again at most this often (its owner may have drained it). */
  recheckMs?: number;
  /** Devices whose figures are kept; the oldest read goes first. ~150 bytes each. */
  maxDevices?: number;
}

interface Usage {
  /** Stored at the last read, plus everything admitted since. */
  count: number;
  bytes: number;
  /** Admitted but not answered yet (maybe not in the database at a new read). */
  pendingCount: number;
  pendingBytes: number;
  readAt: number;
}

/** What the caps let through: `error` refuses the whole send; otherwise `full` is left out. */
export interface Admission {
  error?: ApiError;
  /** Counted in: settle these once the send is answered. */
  admitted: readonly QueueTarget[];
  full: readonly QueueTarget[];
}

const errorOf = (a: Admission): ApiError | undefined => a.error;

/** Seconds a sender is told to wait before trying a full queue again. */
const QUEUE_FULL_RETRY_SECONDS = 60;

/**
 * Per-device queue caps, checked on the send path without a COUNT per send: each
 * destination device's count and bytes are read from the database once, kept up to date
 * by this node's own sends, and read again every `reseedMs` or when the cap seems reached
 * (at most every `recheckMs` for a device that stays full). So a send costs a Map lookup
 * per destination device, and a device that acks everything is read about once a minute.
 *
 * In a cluster each node sees only its own inserts between reads, so a queue can pass the
 * cap by what other nodes stored for it in one `reseedMs`: a per-node approximation,
 * corrected from the database every minute. Nothing here is stored, logged or sent; the
 * figures describe queues the database holds anyway, and vanish with the process.
 */
export class QueueCaps {
  private readonly usage = new Map<string, Usage>();
  private readonly reseedMs: number;
  private readonly recheckMs: number;
  private readonly maxDevices: number;

  constructor(private readonly opts: QueueCapsOptions) {
    this.reseedMs = opts.reseedMs ?? 60_000;
    this.recheckMs = opts.recheckMs ?? 1_000;
    this.maxDevices = opts.maxDevices ?? 100_000;
  }

  /** Devices whose figures are held now (tests). */
  get size(): number {
    return this.usage.size;
  }

  /**
   * Counts the send in, or answers why not (507 QUEUE_FULL: nothing is stored, nothing
   * already queued is touched). A promise only when the database must be read first.
   */
  admit(targets: readonly QueueTarget[]): ApiError | undefined | Promise<ApiError | undefined> {
    const decided = this.admitWith(targets, false);
    return decided instanceof Promise ? decided.then(errorOf) : errorOf(decided);
  }

  /**
   * For a multi-recipient send: counts in the devices that have room and answers the full
   * ones, to be left out (one offline member must not block a whole group). 507 only when
   * every destination device is full. `admitted` is what to `settle` later.
   */
  admitAvailable(targets: readonly QueueTarget[]): Admission | Promise<Admission> {
    return this.admitWith(targets, true);
  }

  private admitWith(targets: readonly QueueTarget[], partial: boolean): Admission | Promise<Admission> {
    const now = this.opts.clock();
    const stale = targets.filter((t) => {
      const u = this.usage.get(t.key);
      return !u || now - u.readAt >= this.reseedMs;
    });
    if (stale.length > 0) return this.read(stale).then(() => this.decide(targets, true, partial));
    return this.decide(targets, false, partial);
  }

  /** The send was answered: committed (`stored`) or refused / failed (its share is given back). */
  settle(targets: readonly QueueTarget[], stored: boolean): void {
    for (const t of targets) {
      const u = this.usage.get(t.key);
      if (!u) continue;
      u.pendingCount = Math.max(0, u.pendingCount - t.count);
      u.pendingBytes = Math.max(0, u.pendingBytes - t.bytes);
      if (!stored) {
        u.count = Math.max(0, u.count - t.count);
        u.bytes = Math.max(0, u.bytes - t.bytes);
      }
    }
  }

  private decide(targets: readonly QueueTarget[], justRead: boolean, partial: boolean): Admission | Promise<Admission> {
    const now = this.opts.clock();
    const full: QueueTarget[] = [];
    for (const t of targets) {
      const u = this.usage.get(t.key);
      if (u && (u.count + t.count > this.opts.maxEnvelopes || u.bytes + t.bytes > this.opts.maxBytes)) full.push(t);
    }
    let admitted: readonly QueueTarget[] = targets;
    if (full.length > 0) {
      const recheck = justRead ? [] : full.filter((t) => now - this.usage.get(t.key)!.readAt >= this.recheckMs);
      if (recheck.length > 0) return this.read(recheck).then(() => this.decide(targets, true, partial));
      if (!partial || full.length === targets.length) return { error: queueFull(full, this.opts.maxEnvelopes, this.opts.maxBytes), admitted: [], full };
      const left = new Set(full);
      admitted = targets.filter((t) => !left.has(t));
    }
    for (const t of admitted) {
      let u = this.usage.get(t.key);
      // Dropped between the read and now (more devices than maxDevices): read again next time.
      if (!u) this.remember(t.key, (u = { count: 0, bytes: 0, pendingCount: 0, pendingBytes: 0, readAt: -Infinity }));
      u.count += t.count;
      u.bytes += t.bytes;
      u.pendingCount += t.count;
      u.pendingBytes += t.bytes;
    }
    return { admitted, full };
  }

  private async read(targets: readonly QueueTarget[]): Promise<void> {
    const unique = new Map<string, QueueTarget>();
    for (const t of targets) unique.set(t.key, t);
    const rows = await this.opts.load([...unique.values()]);
    const stored = new Map<string, QueueUsage>();
    for (const r of rows) stored.set(deviceKey(r.accountId, r.deviceId), r);
    const now = this.opts.clock();
    for (const [key] of unique) {
      const s = stored.get(key);
      const old = this.usage.get(key);
      // Sends admitted but unanswered may not be in what was read: counted on top (an
      // upper bound; one that committed meanwhile counts twice until the next read).
      const pendingCount = old?.pendingCount ?? 0;
      const pendingBytes = old?.pendingBytes ?? 0;
      this.usage.delete(key);
      this.remember(key, { count: (s?.count ?? 0) + pendingCount, bytes: (s?.bytes ?? 0) + pendingBytes, pendingCount, pendingBytes, readAt: now });
    }
  }

  private remember(key: string, u: Usage): void {
    this.usage.set(key, u);
    // Map order is read order: the first entry is the stalest, and will be read again anyway.
    while (this.usage.size > this.maxDevices) this.usage.delete(this.usage.keys().next().value!);
  }
}

/** The full devices per account, as the 507 body's `full` and a multi send's `queueFull` list them. */
function byAccount(full: readonly QueueTarget[]): Array<{ accountId: string; deviceIds: number[] }> {
  const accounts = new Map<string, number[]>();
  for (const t of full) accounts.set(t.accountId, [...(accounts.get(t.accountId) ?? []), t.deviceId]);
  return [...accounts].map(([accountId, deviceIds]) => ({ accountId, deviceIds }));
}

function queueFull(full: readonly QueueTarget[], maxEnvelopes: number, maxBytes: number): ApiError {
  const accounts = byAccount(full);
  const mib = maxBytes / (1024 * 1024);
  const limit = `${maxEnvelopes} messages or ${mib >= 1 ? `${Math.round(mib)} MiB` : `${Math.round(maxBytes / 1024)} KiB`}`;
  const message =
    accounts.length === 1 && full.length === 1
      ? `the recipient's device ${full[0]!.deviceId} has as many messages waiting as the server keeps for one device (${limit}); nothing was sent, try again once it has come online and fetched them`
      : `the queues of ${full.length} recipient devices are full (${limit} each); nothing was sent, try again once they have fetched their messages, or send without them`;
  return new ApiError(ErrorCode.QueueFull, message, {
    retryAfterSeconds: QUEUE_FULL_RETRY_SECONDS,
    full: accounts,
  });
}

function targetsOf(destinations: ReadonlyArray<{ accountId: string; messages: SendCommand['messages'] }>): QueueTarget[] {
  const targets: QueueTarget[] = [];
  for (const d of destinations) {
    for (const m of d.messages) targets.push({ key: deviceKey(d.accountId, m.deviceId), accountId: d.accountId, deviceId: m.deviceId, count: 1, bytes: m.content.length });
  }
  return targets;
}

/**
 * The writer behind the queue caps (and any other refusal before a send is stored, such
 * as a full disk): a refused send never reaches the group commit. Online-only sends store
 * nothing and pass straight through.
 */
export class CappedSubmitter implements SendSubmitter, MultiSendSubmitter {
  constructor(
    private readonly writer: SendSubmitter & MultiSendSubmitter,
    private readonly caps: QueueCaps,
    /** Asked first: an error refuses every stored send (e.g. 507 STORAGE_FULL). */
    private readonly refuse: () => ApiError | undefined = () => undefined,
  ) {}

  submit(command: SendCommand): Promise<SendOutcome> {
    if (command.online) return this.writer.submit(command);
    return this.run(targetsOf([{ accountId: command.destination, messages: command.messages }]), () => this.writer.submit(command));
  }

  /**
   * A multi-recipient send stores for every device with room and leaves out the full ones,
   * named back in `queueFull` (they still count in the device-list check, so the sender
   * lists the whole group and is not told 409). 507 only when every device is full.
   */
  async submitMulti(command: MultiSendCommand): Promise<SendOutcome> {
    if (command.online) return this.writer.submitMulti(command);
    const refused = this.refuse();
    if (refused) return { ok: false, error: refused };
    const { error, admitted, full } = await this.caps.admitAvailable(targetsOf(command.destinations));
    if (error) return { ok: false, error };
    if (full.length === 0) return this.settled(admitted, () => this.writer.submitMulti(command));
    const withheld = new Set(full.map((t) => t.key));
    const outcome = await this.settled(admitted, () => this.writer.submitMulti({ ...command, withheld }));
    if (!outcome.ok) return outcome;
    const response: MultiSendResponse = { ...outcome.response, queueFull: byAccount(full) };
    return { ok: true, response };
  }

  private async run(targets: QueueTarget[], submit: () => Promise<SendOutcome>): Promise<SendOutcome> {
    const refused = this.refuse() ?? (await this.caps.admit(targets));
    if (refused) return { ok: false, error: refused };
    return this.settled(targets, submit);
  }

  /** Submits what the caps admitted, then settles exactly that (stored or given back). */
  private async settled(admitted: readonly QueueTarget[], submit: () => Promise<SendOutcome>): Promise<SendOutcome> {
    let stored = false;
    try {
      const outcome = await submit();
      stored = outcome.ok;
      return outcome;
    } finally {
      this.caps.settle(admitted, stored);
    }
  }
}
