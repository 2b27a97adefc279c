import {
  ProtocolAddress,
  SenderKeyDistributionMessage,
  groupEncrypt,
  ContentHint,
  UnidentifiedSenderMessageContent,
  type CiphertextMessage,
} from '@signalapp/libsignal-client';
import { encodeContent, EnvelopeType, ErrorCode, QueueFullBody } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import { IdentityChangedError, KluisError, ServerError } from '../errors.js';
import type { FullQueue, MultiSender, MultiSendResult } from '../multi-sender.js';
import { SealingUnavailableError, type SealedSender } from '../sealed/sealed-sender.js';
import type { Sender } from '../sender.js';
import { eachLimit } from '../mutex.js';
import type { Bytes } from '../store/protocol-store.js';
import { check } from '../transport/validate.js';
import type { GroupBook } from './group-book.js';

export const MAX_GROUP_SEND_ATTEMPTS = 5;

/** A group message's result: stored for `recipients` devices; `undelivered` ones had full queues. */
export interface GroupSendResult {
  serverTimestamp?: number;
  recipients: number;
  /**
   * Member devices whose server queue was full (offline for long): this message was not
   * stored for them and is not retried; everyone else got it (say "not delivered to …").
   */
  undelivered: FullQueue[];
}
/** Sealed 1:1 sends in flight at once when telling many members something. */
const SEALED_FANOUT = 8;
/** Bundle fetches at once when a send meets members we never talked to. */
const BUNDLE_FETCHES_IN_FLIGHT = 8;

/**
 * Group messages: one sender-key encryption per message, one upload, fanned out by the
 * server to every member device (and this account's other devices) in one commit. Devices
 * that do not hold our current sender key get a distribution message over 1:1 first.
 */
export class GroupSender {
  constructor(
    private readonly ctx: Ctx,
    private readonly sender: Sender,
    private readonly multi: MultiSender,
    private readonly book: GroupBook,
    private readonly sealed?: SealedSender,
  ) {}

  /**
   * 1:1 to each account (group updates, sender keys). Accounts whose access key we know
   * get sealed sends (the server cannot tell who is telling whom about the group); the
   * rest, and our own devices, go in one identified multi-recipient request.
   */
  async sendToAccounts(accountIds: string[], content: Bytes, timestamp: number): Promise<{ devices: number; undelivered: FullQueue[] }> {
    // Our own devices too, when we hold our own key: an identified copy beside sealed
    // ones would name the sender.
    const sealable = this.sealed ? accountIds.filter((a) => this.sealed!.accessKeyFor(a)) : [];
    const sealed = new Set(sealable);
    const rest = accountIds.filter((a) => !sealed.has(a));
    const undelivered: FullQueue[] = [];
    let devices = 0;
    if (rest.length > 0) {
      try {
        const r = await this.multi.sendToAccounts(rest, content, timestamp);
        devices = r.devices;
        undelivered.push(...(r.queueFull ?? []));
      } catch (e) {
        // Every device's queue full: nothing stored, nobody else to tell.
        const full = queueFullOf(e);
        if (!full) throw e;
        undelivered.push(...full);
      }
    }
    await eachLimit(sealable, SEALED_FANOUT, async (a) => {
      try {
        await this.sender.sendToAccount(a, content, timestamp);
        devices += this.devicesOf(a).length;
      } catch (e) {
        // One member's changed safety number must not keep the others from hearing.
        if (e instanceof IdentityChangedError) return;
        // A 1:1 send is refused whole for one full device: the account's others get it as
        // a resend naming them alone (nothing of the first try was stored).
        const full = queueFullOf(e)?.filter((f) => f.accountId === a);
        if (!full) throw e;
        undelivered.push(...full);
        const left = new Set(full.flatMap((f) => f.deviceIds));
        const rest = this.devicesOf(a).filter((d) => !left.has(d) && !(a === this.ctx.me().accountId && d === this.ctx.me().deviceId));
        if (rest.length === 0) return;
        await this.sender.sendToAccount(a, content, timestamp, { onlyDevices: rest });
        devices += rest.length;
      }
    });
    return { devices, undelivered };
  }

  /** `shortLived`: kept in the queue only briefly (call signals); the sender-key handout before it is stored as usual. */
  async sendToGroup(groupId: string, content: Bytes, timestamp: number, o: { online?: boolean; shortLived?: boolean } = {}): Promise<GroupSendResult> {
    const me = this.ctx.me();
    const state = this.book.state(groupId);
    const distributionId = this.book.distributionId(groupId);
    if (!state || !distributionId) throw new KluisError('UNKNOWN_GROUP', `no group ${groupId}`);
    const accounts = state.members.map((m) => m.accountId).filter((a) => a !== me.accountId);
    for (const a of accounts) {
      if (this.ctx.store.getIdentity(a)?.status === 'changed-pending')
        throw new IdentityChangedError(this.ctx.data.usernameOf(a) ?? a, a);
    }
    const gone = new Set<string>();
    const local = ProtocolAddress.new(me.accountId, me.deviceId);
    for (let attempt = 0; attempt < MAX_GROUP_SEND_ATTEMPTS; attempt++) {
      const targets = [...accounts.filter((a) => !gone.has(a)), me.accountId];
      await this.ensureSessions(targets);
      const devices = new Map<string, number[]>();
      // Our own account always, even with no other device (then listed with none): a
      // fan-out to the group minus one account would name that account as its sender.
      for (const a of targets) devices.set(a, this.devicesOf(a).filter((d) => !(a === me.accountId && d === me.deviceId)));
      const missedKey = await this.distribute(groupId, distributionId, devices, timestamp);
      // Encrypted after the distribution: a key handed out later starts past this message.
      const ct = await this.ctx.locks.run(`group:${groupId}`, () => groupEncrypt(local, distributionId, this.ctx.adapters().senderKeys, content));
      const res = await this.transmit(state.id, devices, ct, timestamp, o);
      if (res.ok) {
        // Full queues are reported, not retried: the device is offline, and its account
        // stays in the fan-out (the recipient set is still the whole group).
        let n = 0;
        for (const ds of devices.values()) n += ds.length;
        for (const f of res.queueFull ?? []) n -= f.deviceIds.length;
        return { serverTimestamp: res.serverTimestamp, recipients: n, undelivered: mergeFull(res.queueFull ?? [], missedKey) };
      }
      for (const a of res.unknownAccounts ?? []) gone.add(a);
      for (const m of res.mismatched ?? []) {
        for (const d of m.extraDevices) this.dropDevice(groupId, m.accountId, d);
        for (const d of m.missingDevices) if (!(m.accountId === me.accountId && d === me.deviceId)) await this.addDevice(m.accountId, d);
      }
      for (const s of res.stale ?? []) {
        for (const d of s.staleDevices) {
          this.dropDevice(groupId, s.accountId, d);
          await this.addDevice(s.accountId, d);
        }
      }
    }
    throw new KluisError('DEVICES_CHANGING', 'the members’ device lists kept changing; try again');
  }

  /**
   * Sealed when we hold every member's access key, our own included: one multi-recipient
   * sealed upload for the whole group, our other devices in it (no separate copy that
   * would tie the upload to us). Otherwise one identified upload for all.
   */
  private async transmit(
    groupId: Uint8Array,
    devices: Map<string, number[]>,
    ct: CiphertextMessage,
    timestamp: number,
    o: { online?: boolean; shortLived?: boolean },
  ): Promise<MultiSendResult> {
    const me = this.ctx.me();
    const sealed = this.sealed;
    const keys = new Map([...devices.keys()].map((a) => [a, sealed?.accessKeyFor(a)] as const));
    const others = [...devices.keys()].some((a) => a !== me.accountId);
    if (!sealed || !others || [...keys.values()].some((k) => k === undefined)) {
      return this.multi.sendShared(devices, EnvelopeType.SenderKey, ct.serialize(), timestamp, o);
    }
    try {
      const usmc = UnidentifiedSenderMessageContent.new(ct, await sealed.certificate(), ContentHint.Resendable, new Uint8Array(groupId));
      return await this.multi.sendSharedSealed(devices, usmc, (a) => keys.get(a)!, timestamp, o);
    } catch (e) {
      // A member's key we hold is stale (rotated, or never published), or no certificate
      // now: this message goes identified rather than not at all.
      if (!(e instanceof ServerError && e.status === 401) && !(e instanceof SealingUnavailableError)) throw e;
      return this.multi.sendShared(devices, EnvelopeType.SenderKey, ct.serialize(), timestamp, o);
    }
  }

  /**
   * Sends our current sender key to every listed device that does not have it yet.
   * Returns the devices it could not be stored for (full queues): not marked as having
   * it, so the next group message hands it out again.
   */
  private async distribute(groupId: string, distributionId: string, devices: Map<string, number[]>, timestamp: number): Promise<FullQueue[]> {
    const shared = this.ctx.conv.senderKeyShared(groupId, distributionId);
    const need = [...devices.entries()].filter(([a, ds]) => ds.some((d) => !shared.has(`${a}.${d}`))).map(([a]) => a);
    if (need.length === 0) return [];
    const me = this.ctx.me();
    const skdm = await this.ctx.locks.run(`group:${groupId}`, () =>
      SenderKeyDistributionMessage.create(ProtocolAddress.new(me.accountId, me.deviceId), distributionId, this.ctx.adapters().senderKeys),
    );
    const content = encodeContent({ senderKeyDistribution: skdm.serialize() });
    const { undelivered } = await this.sendToAccounts(need, content, timestamp);
    // Whatever devices reconciliation found, each now has a session and got the key.
    const missed = new Set(undelivered.flatMap((f) => f.deviceIds.map((d) => `${f.accountId}.${d}`)));
    const addresses = need.flatMap((a) => this.devicesOf(a).map((d) => `${a}.${d}`)).filter((x) => !missed.has(x));
    this.ctx.conv.markSenderKeyShared(groupId, distributionId, addresses);
    return undelivered;
  }

  private devicesOf(accountId: string): number[] {
    return this.ctx.store.usableDevices(accountId);
  }

  /**
   * Accounts we never talked to: sessions with all their devices (trust on first use). A
   * new large group has hundreds: their bundles are fetched a few at a time, so the round
   * trips overlap the session building (each account still under its own lock).
   */
  private async ensureSessions(accountIds: string[]): Promise<void> {
    const me = this.ctx.me();
    if (accountIds.includes(me.accountId)) {
      for (const d of this.ctx.ownDevices()) if (d !== me.deviceId && !this.devicesOf(me.accountId).includes(d)) await this.addDevice(me.accountId, d);
    }
    const strangers = accountIds.filter((a) => a !== me.accountId && this.devicesOf(a).length === 0);
    await eachLimit(strangers, BUNDLE_FETCHES_IN_FLIGHT, (a) =>
      this.ctx.locks.run(a, async () => {
        if (this.devicesOf(a).length > 0) return; // another send built them meanwhile
        const res = await this.ctx.api().fetchBundles(a, '*');
        const zone = this.ctx.store.zone('group-sessions');
        const ad = this.ctx.adapters(zone);
        try {
          for (const d of res.devices) await this.sender.processBundle(a, res.identityKey, d, ad);
          this.ctx.store.commit(zone);
        } catch (e) {
          this.ctx.store.discard(zone);
          throw e;
        }
      }),
    );
  }

  private async addDevice(accountId: string, deviceId: number): Promise<void> {
    await this.ctx.locks.run(accountId, async () => {
      let res;
      try {
        res = await this.ctx.api().fetchBundles(accountId, deviceId);
      } catch (e) {
        if (e instanceof ServerError && e.status === 404) return;
        throw e;
      }
      const b = res.devices.find((x) => x.deviceId === deviceId);
      if (!b) return;
      const zone = this.ctx.store.zone('group-device');
      const ad = this.ctx.adapters(zone);
      try {
        this.ctx.store.deleteSession(ProtocolAddress.new(accountId, deviceId).toString(), zone);
        await this.sender.processBundle(accountId, res.identityKey, b, ad);
        this.ctx.store.commit(zone);
      } catch (e) {
        this.ctx.store.discard(zone);
        throw e;
      }
    });
  }

  private dropDevice(_groupId: string, accountId: string, deviceId: number): void {
    const address = ProtocolAddress.new(accountId, deviceId).toString();
    this.ctx.store.deleteSession(address);
    this.ctx.conv.forgetSenderKeyShared(address);
  }
}

/** The full devices of a 507 QUEUE_FULL (nothing of that send was stored), else undefined. */
function queueFullOf(e: unknown): FullQueue[] | undefined {
  if (!(e instanceof ServerError) || e.status !== 507 || e.code !== ErrorCode.QueueFull) return undefined;
  return check(QueueFullBody, e.body) ? e.body.full : undefined;
}

/** Both lists, each device once, per account. */
function mergeFull(a: readonly FullQueue[], b: readonly FullQueue[]): FullQueue[] {
  const by = new Map<string, Set<number>>();
  for (const f of [...a, ...b]) {
    const s = by.get(f.accountId) ?? new Set<number>();
    for (const d of f.deviceIds) s.add(d);
    by.set(f.accountId, s);
  }
  return [...by].map(([accountId, ds]) => ({ accountId, deviceIds: [...ds].sort((x, y) => x - y) }));
}
