import { Aci, ProtocolAddress, sealedSenderMultiRecipientEncrypt, type UnidentifiedSenderMessageContent } from '@signalapp/libsignal-client';
import {
  MultiMismatchedDevicesBody,
  MultiSendResponse,
  MultiStaleDevicesBody,
  UnknownAccountsBody,
  type EnvelopeType,
  type MultiSendDevice,
  type MultiSendRequest,
} from '@kluis/protocol';
import type { Ctx } from './context.js';
import { IdentityChangedError, KluisError, ServerError } from './errors.js';
import { b64 } from './keys.js';
import { xorAccessKeys } from './sealed/sealed-sender.js';
import { accountSendState, applyStale, MAX_SEND_ATTEMPTS, Sender, type AccountSendState } from './sender.js';
import type { Bytes } from './store/protocol-store.js';
import { toServerError, type RawResponse } from './transport/http.js';
import { check, expectShape } from './transport/validate.js';

export interface MultiSendOptions {
  /** Online-only (typing indicators): never stored, dropped for devices that are not connected. */
  online?: boolean;
  /**
   * Kept in the queue only briefly (expires within the hour, coarse like every stored
   * time), for call signals that are useless after a minute.
   */
  shortLived?: boolean;
  /** Extra writes committed with the first account's session state (runs at most once). */
  withCommit?: () => void;
}

export interface AccountsSendResult {
  /** Absent when nothing was sent (no account left to send to). */
  serverTimestamp?: number;
  /** Devices the message was accepted for. */
  devices: number;
  /** Accounts whose identity key changed (sending to them waits for trust()); the others got it. */
  blocked: string[];
  /** Accounts that do not exist (any more); dropped from the send. */
  unknownAccounts: string[];
  /** Devices whose server queue was full: the message was not stored for them (the others got it). */
  queueFull?: FullQueue[];
}

/** Devices of one account the server stored nothing for, their queues being full (QueueFullBody). */
export interface FullQueue {
  accountId: string;
  deviceIds: number[];
}

export interface DeviceMismatch {
  accountId: string;
  missingDevices: number[];
  extraDevices: number[];
}

export interface StaleDevices {
  accountId: string;
  staleDevices: number[];
}

/** What a shared send returns: accepted, or the server's lists for the caller to fix first. */
export type MultiSendResult =
  | {
      ok: true;
      serverTimestamp: number;
      devices: number;
      withoutSession: DeviceList[];
      /** A sealed send: the device the server took to be the sender's and left out. */
      skipped?: Array<{ accountId: string; deviceId: number }>;
      /** Devices left out because their queues are full (not counted in `devices`); not to be retried now. */
      queueFull?: FullQueue[];
    }
  | {
      ok: false;
      status: number;
      mismatched: DeviceMismatch[];
      stale: StaleDevices[];
      unknownAccounts: string[];
      /** Listed devices we hold no session with: left out (no registration id), so expect them in `mismatched`. */
      withoutSession: DeviceList[];
    };

export interface DeviceList {
  accountId: string;
  devices: number[];
}

/**
 * Sends to many accounts in ONE request and one server commit (PUT /v1/messages):
 * either the same plaintext encrypted 1:1 for every device (group control messages,
 * sender-key distribution, sync copies), or one shared ciphertext (a sender-key
 * message) that the server fans out. Per-account encryption is Sender.encryptFor, under
 * that account's lock, one account at a time; session state is committed before the
 * request leaves.
 */
export class MultiSender {
  private readonly sender: Sender;

  constructor(
    private readonly ctx: Ctx,
    sender?: Sender,
  ) {
    this.sender = sender ?? new Sender(ctx);
  }

  /**
   * The same plaintext, 1:1 encrypted for every device of every account, in one request.
   * 409/410 update that account's sessions and device set and the request is retried (up
   * to MAX_SEND_ATTEMPTS); accounts the server does not know (404) are dropped; an
   * identity change blocks only that account. Listing the own account sends sync copies
   * to our other devices (never to this one).
   */
  async sendToAccounts(accountIds: string[], content: Bytes, timestamp: number, o: MultiSendOptions = {}): Promise<AccountsSendResult> {
    const me = this.ctx.me();
    const blocked: string[] = [];
    const unknownAccounts: string[] = [];
    const states = new Map<string, AccountSendState>();
    let extra = o.withCommit;
    const once = () => {
      const fn = extra;
      extra = undefined;
      try {
        fn?.();
      } catch (e) {
        extra = fn; // the transaction rolls back: still to be written
        throw e;
      }
    };
    for (const a of new Set(accountIds)) states.set(a, accountSendState(a === me.accountId, { extra: once }));
    // Ciphertexts of accounts the server did not object to are sent again as they are on a
    // retry: nothing was stored, and re-encrypting would only advance the ratchet.
    const encrypted = new Map<string, MultiSendDevice[]>();
    try {
      for (let attempt = 0; attempt < MAX_SEND_ATTEMPTS; attempt++) {
        for (const [accountId, state] of states) {
          if (encrypted.has(accountId)) continue;
          try {
            encrypted.set(accountId, await this.encryptAccount(accountId, content, timestamp, state));
          } catch (e) {
            if (e instanceof IdentityChangedError) blocked.push(accountId);
            else if (e instanceof ServerError && e.status === 404) unknownAccounts.push(accountId);
            else throw e;
            states.delete(accountId);
          }
        }
        const recipients = [...encrypted].map(([accountId, devices]) => ({ accountId, devices }));
        // Nobody left, or only the own account with no other device known: nothing to send.
        if (recipients.length === 0 || recipients.every((r) => r.devices.length === 0 && r.accountId !== me.accountId)) {
          return { devices: 0, blocked, unknownAccounts };
        }
        const devices = recipients.reduce((n, r) => n + r.devices.length, 0);
        const res = await this.ctx.transmitMulti(this.request(timestamp, recipients, o));
        if (res.status >= 200 && res.status < 300) {
          const { serverTimestamp, queueFull } = expectShape(MultiSendResponse, res.body, 'sendMulti');
          // Stored for everyone else; the full devices are told back, not retried.
          if (queueFull?.length) return { serverTimestamp, devices: devices - countDevices(queueFull), blocked, unknownAccounts, queueFull };
          return { serverTimestamp, devices, blocked, unknownAccounts };
        }
        if (res.status === 409 && check(MultiMismatchedDevicesBody, res.body)) {
          for (const m of res.body.mismatched) {
            const state = states.get(m.accountId);
            if (!state) continue;
            this.sender.applyMismatch(state, m.missingDevices, m.extraDevices);
            encrypted.delete(m.accountId);
          }
          continue;
        }
        if (res.status === 410 && check(MultiStaleDevicesBody, res.body)) {
          for (const s of res.body.stale) {
            const state = states.get(s.accountId);
            if (!state) continue;
            applyStale(state, s.staleDevices);
            encrypted.delete(s.accountId);
          }
          continue;
        }
        if (res.status === 404 && check(UnknownAccountsBody, res.body)) {
          for (const a of res.body.unknownAccounts) {
            if (!states.delete(a)) continue;
            encrypted.delete(a);
            unknownAccounts.push(a);
          }
          continue;
        }
        throw toServerError(res);
      }
      throw new KluisError('DEVICES_CHANGING', 'the device lists of the recipients kept changing; try again');
    } finally {
      // Nothing was committed with an encryption (e.g. nobody to send to): write it anyway.
      if (extra) this.ctx.store.transaction(once);
    }
  }

  /**
   * One shared ciphertext (already encrypted by the caller, e.g. with a sender key) for
   * the listed devices of each account; `undefined` means every device we have a session
   * with. Registration ids come from those sessions. No retry here: on 404/409/410 the
   * server's lists come back, so the caller can build sessions, hand out sender keys to
   * new devices and call again.
   */
  async sendShared(
    recipients: ReadonlyMap<string, readonly number[] | undefined>,
    type: EnvelopeType,
    content: Bytes,
    timestamp: number,
    o: { online?: boolean; shortLived?: boolean } = {},
  ): Promise<MultiSendResult> {
    const me = this.ctx.me();
    const withoutSession: DeviceList[] = [];
    const list: MultiSendRequest['recipients'] = [];
    for (const [accountId, wanted] of recipients) {
      const known = this.registrations(accountId);
      const devices: MultiSendDevice[] = [];
      const missing: number[] = [];
      for (const d of wanted ?? [...known.keys()]) {
        if (accountId === me.accountId && d === me.deviceId) continue;
        const registrationId = known.get(d);
        if (registrationId === undefined) missing.push(d);
        else devices.push({ deviceId: d, registrationId });
      }
      if (missing.length > 0) withoutSession.push({ accountId, devices: missing });
      list.push({ accountId, devices });
    }
    if (list.length === 0) throw new KluisError('NO_RECIPIENTS', 'a shared send needs at least one account');
    const res = await this.ctx.transmitMulti({
      timestamp,
      ...(o.online ? { online: true } : {}),
      ...(o.shortLived ? { shortLived: true } : {}),
      shared: { type, content: b64(content) },
      recipients: list,
    });
    return this.sharedResult(res, list.reduce((n, r) => n + r.devices.length, 0), withoutSession);
  }

  /**
   * A sealed shared send: `usmc` (a sender-key message wrapped with our sender certificate)
   * sealed for every listed device with libsignal's multi-recipient format, one upload,
   * authorised by the XOR of the recipients' access keys. Same results as sendShared.
   * An account listed with no device to send to (our own, when we have no other device)
   * goes in libsignal's excludedRecipients: the upload still names every account, so its
   * account set does not tell which one is missing (the sender). No wire timestamp.
   */
  async sendSharedSealed(
    recipients: ReadonlyMap<string, readonly number[]>,
    usmc: UnidentifiedSenderMessageContent,
    /** Every listed account's access key (only those sent to count in the XOR). */
    accessKeyOf: (accountId: string) => Uint8Array,
    timestamp: number,
    o: { online?: boolean; shortLived?: boolean } = {},
  ): Promise<MultiSendResult> {
    const me = this.ctx.me();
    const withoutSession: DeviceList[] = [];
    const addresses: ProtocolAddress[] = [];
    const excluded: Aci[] = [];
    const keys: Uint8Array[] = [];
    for (const [accountId, wanted] of recipients) {
      const known = this.registrations(accountId);
      const missing: number[] = [];
      let listed = 0;
      for (const d of wanted) {
        if (accountId === me.accountId && d === me.deviceId) continue;
        if (known.has(d)) {
          addresses.push(ProtocolAddress.new(accountId, d));
          listed++;
        } else missing.push(d);
      }
      if (missing.length > 0) withoutSession.push({ accountId, devices: missing });
      if (listed === 0) excluded.push(Aci.fromUuid(accountId));
      else keys.push(accessKeyOf(accountId));
    }
    if (addresses.length === 0) throw new KluisError('NO_RECIPIENTS', 'a shared send needs at least one device');
    void timestamp; // inside the ciphertext only
    const ad = this.ctx.adapters();
    const message = await sealedSenderMultiRecipientEncrypt({
      content: usmc,
      recipients: addresses,
      ...(excluded.length > 0 ? { excludedRecipients: excluded } : {}),
      identityStore: ad.identity,
      sessionStore: ad.sessions,
    });
    // Over the sealed socket when it is open, else HTTP; no credential either way.
    const res = await this.ctx.transport.sendSealedMulti(message, xorAccessKeys(keys), o);
    if (res.status === 401) throw new ServerError(401, 'UNAUTHORIZED', 'a recipient’s access key was refused', res.body);
    return this.sharedResult(res, addresses.length, withoutSession);
  }

  private sharedResult(res: RawResponse, devices: number, withoutSession: DeviceList[]): MultiSendResult {
    if (res.status >= 200 && res.status < 300) {
      const body = expectShape(MultiSendResponse, res.body, 'sendMulti');
      const full = body.queueFull?.length ? { queueFull: body.queueFull } : {};
      return {
        ok: true,
        serverTimestamp: body.serverTimestamp,
        devices: devices - countDevices(body.queueFull ?? []),
        withoutSession,
        ...(body.skipped ? { skipped: body.skipped } : {}),
        ...full,
      };
    }
    const failed = { ok: false as const, status: res.status, mismatched: [], stale: [], unknownAccounts: [], withoutSession };
    if (res.status === 409 && check(MultiMismatchedDevicesBody, res.body)) return { ...failed, mismatched: res.body.mismatched };
    if (res.status === 410 && check(MultiStaleDevicesBody, res.body)) return { ...failed, stale: res.body.stale };
    if (res.status === 404 && check(UnknownAccountsBody, res.body)) return { ...failed, unknownAccounts: res.body.unknownAccounts };
    throw toServerError(res);
  }

  /** Devices of `accountId` we hold a usable session with, ascending. */
  knownDevices(accountId: string): number[] {
    return [...this.registrations(accountId).keys()];
  }

  /**
   * Builds sessions from fresh prekey bundles: with the listed devices (replacing any
   * session we had, as after a 410), or with every device of the account we have none
   * with. Returns the devices that got a new session (they need our sender keys). A
   * device the server does not know is skipped; an identity change throws
   * IdentityChangedError and commits nothing.
   */
  async establishSessions(accountId: string, deviceIds?: readonly number[]): Promise<number[]> {
    return this.ctx.locks.run(accountId, async () => {
      const { store } = this.ctx;
      const api = this.ctx.api();
      const bundles: Array<{ identityKey: string; device: Parameters<Sender['processBundle']>[2] }> = [];
      if (deviceIds === undefined) {
        const known = new Set(this.knownDevices(accountId));
        const res = await api.fetchBundles(accountId, '*');
        for (const d of res.devices) if (!known.has(d.deviceId)) bundles.push({ identityKey: res.identityKey, device: d });
      } else {
        for (const id of deviceIds) {
          try {
            const res = await api.fetchBundles(accountId, id);
            const d = res.devices.find((x) => x.deviceId === id);
            if (d) bundles.push({ identityKey: res.identityKey, device: d });
          } catch (e) {
            if (!(e instanceof ServerError && e.status === 404)) throw e;
          }
        }
      }
      const me = this.ctx.me();
      const zone = store.zone('multi-sessions');
      const ad = this.ctx.adapters(zone);
      const done: number[] = [];
      try {
        for (const b of bundles) {
          if (accountId === me.accountId && b.device.deviceId === me.deviceId) continue;
          store.deleteSession(ProtocolAddress.new(accountId, b.device.deviceId).toString(), zone);
          await this.sender.processBundle(accountId, b.identityKey, b.device, ad);
          done.push(b.device.deviceId);
        }
        store.commit(zone);
      } catch (e) {
        store.discard(zone);
        const u = ad.identity.untrusted.find((x) => x.accountId === accountId);
        if (u) {
          this.sender.markPending(accountId, u.key);
          throw new IdentityChangedError(this.ctx.data.usernameOf(accountId) ?? accountId, accountId);
        }
        throw e;
      }
      return done.sort((a, b) => a - b);
    });
  }

  /** Drops our sessions with devices the server says are gone (409 extra devices). */
  async forgetDevices(accountId: string, deviceIds: readonly number[]): Promise<void> {
    await this.ctx.locks.run(accountId, () => {
      for (const d of deviceIds) this.ctx.store.deleteSession(ProtocolAddress.new(accountId, d).toString());
    });
  }

  /** One account's per-device ciphertexts, under its lock; an empty list when it has no device to send to. */
  private async encryptAccount(accountId: string, content: Bytes, timestamp: number, state: AccountSendState): Promise<MultiSendDevice[]> {
    return this.ctx.locks.run(accountId, async () => {
      // A changed key waits for trust(): the old sessions would still encrypt, to the old key.
      if (this.ctx.store.getIdentity(accountId)?.status === 'changed-pending') {
        throw new IdentityChangedError(this.ctx.data.usernameOf(accountId) ?? accountId, accountId);
      }
      const req = await this.sender.encryptFor(accountId, content, timestamp, state);
      return (req?.messages ?? []).map((m) => ({ deviceId: m.deviceId, registrationId: m.registrationId, type: m.type, content: m.content }));
    });
  }

  private request(timestamp: number, recipients: MultiSendRequest['recipients'], o: MultiSendOptions): MultiSendRequest {
    // Copies to our own devices alone carry no wire timestamp (see Sender.encryptFor).
    const ownOnly = recipients.every((r) => r.accountId === this.ctx.me().accountId);
    return { ...(ownOnly ? {} : { timestamp }), ...(o.online ? { online: true } : {}), ...(o.shortLived ? { shortLived: true } : {}), recipients };
  }

  /** deviceId → the registration id our session with it recorded. */
  private registrations(accountId: string): ReadonlyMap<number, number> {
    return this.ctx.store.usableSessions(accountId);
  }
}

function countDevices(lists: readonly FullQueue[]): number {
  return lists.reduce((n, l) => n + l.deviceIds.length, 0);
}
