import {
  ErrorCode as SignalErrorCode,
  KEMPublicKey,
  LibSignalErrorBase,
  PreKeyBundle,
  ProtocolAddress,
  PublicKey,
  SessionRecord,
  processPreKeyBundle,
  sealedSenderEncrypt,
  signalEncrypt,
  ContentHint,
  UnidentifiedSenderMessageContent,
  type SenderCertificate,
} from '@signalapp/libsignal-client';
import {
  EnvelopeType,
  MismatchedDevicesBody,
  SendResponse,
  StaleDevicesBody,
  type DeviceBundle,
  type OutgoingMessage,
  type SendRequest,
} from '@kluis/protocol';
import type { Ctx } from './context.js';
import { IdentityChangedError, KluisError, ServerError } from './errors.js';
import { b64, unb64 } from './keys.js';
import { equal, type Adapters } from './store/adapters.js';
import { usable, type Bytes } from './store/protocol-store.js';
import { toServerError } from './transport/http.js';
import { check, expectShape } from './transport/validate.js';

export const MAX_SEND_ATTEMPTS = 5;

export interface SendOptions {
  /** The peer's username, for errors and events. */
  username?: string;
  /** Send to exactly these devices, as an answer to a resend request (`resend: true`). */
  onlyDevices?: number[];
  /** Drop the sessions with these devices first and start fresh ones from new bundles. */
  freshDevices?: number[];
  /** Extra writes committed in the same transaction as the first encryption (runs at most once). */
  withCommit?: () => void;
  /** Ephemeral (typing): only devices connected right now get it; never stored. */
  online?: boolean;
  /**
   * Kept in the queue only briefly (expires within the hour, coarse like every stored
   * time), for call signals that are useless after a minute.
   */
  shortLived?: boolean;
  /** Send identified even when sealing is possible (the server must know who asks: none so far). */
  identified?: boolean;
}

/** Certificate and access key for a sealed send to an account, or undefined (send identified). */
export interface SealingPolicy {
  material(accountId: string): Promise<{ certificate: SenderCertificate; accessKey: Uint8Array<ArrayBuffer> } | undefined>;
  /** The server refused the key (401): remember, so the next sends go identified at once. */
  refused(accountId: string): void;
}

export function bundleFor(identityKey: string, d: DeviceBundle): PreKeyBundle {
  return PreKeyBundle.new(
    d.registrationId,
    d.deviceId,
    d.preKey ? d.preKey.keyId : null,
    d.preKey ? PublicKey.deserialize(unb64(d.preKey.publicKey)) : null,
    d.signedPreKey.keyId,
    PublicKey.deserialize(unb64(d.signedPreKey.publicKey)),
    unb64(d.signedPreKey.signature),
    PublicKey.deserialize(unb64(identityKey)),
    d.kyberPreKey.keyId,
    KEMPublicKey.deserialize(unb64(d.kyberPreKey.publicKey)),
    unb64(d.kyberPreKey.signature),
  );
}

/**
 * One account's part of a send, carried across attempts: reconciliation (409/410) adds
 * and removes devices and marks sessions to rebuild; encryptFor reads it.
 */
export interface AccountSendState {
  own: boolean;
  /** A resend to exactly these devices. */
  only?: number[];
  add: Set<number>;
  remove: Set<number>;
  /** Sessions to drop and rebuild from fresh bundles before encrypting. */
  fresh: Set<number>;
  username?: string;
  /** Extra writes committed with the encryption's session state. */
  extra: () => void;
  /** Seal every ciphertext with this sender certificate (sealed sender). */
  seal?: SenderCertificate;
}

export function accountSendState(own: boolean, o: { fresh?: number[]; only?: number[]; username?: string; extra?: () => void } = {}): AccountSendState {
  return {
    own,
    only: o.only ? [...o.only] : undefined,
    add: new Set(),
    remove: new Set(),
    fresh: new Set(o.fresh ?? []),
    username: o.username,
    extra: o.extra ?? (() => {}),
  };
}

/**
 * The send pipeline: one ciphertext per destination device, sessions built from fetched
 * bundles where missing, reconciliation on 409 (missing/extra) and 410 (stale).
 * Session state is committed before the request leaves (never reuse a ratchet key).
 */
export class Sender {
  /** Set by the client once sealed sender is available; undefined = every send identified. */
  sealing: SealingPolicy | undefined;

  constructor(private readonly ctx: Ctx) {}

  /** Returns the server timestamp, or undefined when there was no device to send to. */
  async sendToAccount(accountId: string, content: Bytes, timestamp: number, o: SendOptions = {}): Promise<number | undefined> {
    const me = this.ctx.me();
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
    const state = accountSendState(accountId === me.accountId, { fresh: o.freshDevices, only: o.onlyDevices, username: o.username, extra: once });
    // Our own account too: a sync copy goes sealed, like the envelopes it accompanies.
    let sealed = o.identified ? undefined : await this.sealing?.material(accountId);
    let accepted: number | undefined;
    try {
      for (let attempt = 0; attempt < MAX_SEND_ATTEMPTS; attempt++) {
        state.seal = sealed?.certificate;
        const req = await this.ctx.locks.run(accountId, () => this.encryptFor(accountId, content, timestamp, state));
        if (!req) return accepted;
        if (o.online) req.online = true;
        if (o.shortLived) req.shortLived = true;
        // Sealed: over the sealed socket (no credential) when it is open, else HTTP; same answers.
        const res = sealed ? await this.ctx.transport.sendSealed(accountId, req, sealed.accessKey) : await this.ctx.transmit(accountId, req);
        if (sealed && res.status === 401) {
          // No key, or a stale one (they rotated it): this one goes identified.
          this.sealing?.refused(accountId);
          sealed = undefined;
          attempt--;
          continue;
        }
        if (res.status >= 200 && res.status < 300) {
          const body = expectShape(SendResponse, res.body, 'send');
          accepted ??= body.serverTimestamp;
          // A sealed send may leave out one device (meant: this one, on a sync copy). If the
          // server left out someone else's, that device was new to us: send it its copy now.
          const left = (body.skippedDevices ?? []).filter((d) => !(state.own && d === me.deviceId) && !state.only?.includes(d));
          if (!sealed || left.length === 0) return accepted;
          state.only = left;
          for (const d of left) state.add.add(d);
          continue;
        }
        if (res.status === 409 && check(MismatchedDevicesBody, res.body)) {
          this.applyMismatch(state, res.body.missingDevices, res.body.extraDevices);
          if (state.only?.length === 0) return accepted;
          continue;
        }
        if (res.status === 410 && check(StaleDevicesBody, res.body)) {
          applyStale(state, res.body.staleDevices);
          continue;
        }
        throw toServerError(res);
      }
      if (accepted !== undefined) return accepted;
      throw new KluisError('DEVICES_CHANGING', `the device list of ${o.username ?? accountId} kept changing; try again`);
    } catch (e) {
      // Stored for the others already: a failed follow-up to a device new to us must not
      // mark the message failed (a user who sends it again would show it twice). That
      // device's gap is reported by the receiver, like any lost message.
      if (accepted !== undefined) return accepted;
      throw e;
    } finally {
      // Nothing was committed with the encryption (e.g. no device to send to): write it anyway.
      if (extra) this.ctx.store.transaction(once);
    }
  }

  /** A 409 for one account: the server's device list wins (and updates ours, for the own account). */
  applyMismatch(s: AccountSendState, missing: readonly number[], extra: readonly number[]): void {
    for (const d of missing) {
      s.add.add(d);
      s.remove.delete(d);
      s.fresh.add(d);
    }
    for (const d of extra) {
      s.remove.add(d);
      s.add.delete(d);
    }
    if (s.own) {
      const me = this.ctx.me();
      const set = new Set([...this.ctx.ownDevices(), ...missing]);
      for (const d of extra) set.delete(d);
      set.add(me.deviceId);
      this.ctx.setOwnDevices([...set]);
    }
    if (s.only) s.only = s.only.filter((d) => !s.remove.has(d));
  }

  /**
   * One ciphertext per device of `accountId` (sessions from fetched bundles where missing),
   * session state committed before it returns. Undefined when there is no device to send
   * to. The caller holds `ctx.locks` for `accountId`. Shared by the single and the
   * multi-recipient send.
   */
  async encryptFor(accountId: string, content: Bytes, timestamp: number, s: AccountSendState): Promise<SendRequest | undefined> {
    const { store } = this.ctx;
    const me = this.ctx.me();
    const addr = (d: number) => ProtocolAddress.new(accountId, d);
    const zone = store.zone('send');
    const ad = this.ctx.adapters(zone);
    try {
      for (const d of [...s.remove, ...s.fresh]) store.deleteSession(addr(d).toString(), zone);
      let targets: Set<number>;
      const haveSession = (d: number) => usable(store.getSession(addr(d).toString(), zone));
      if (s.only) targets = new Set(s.only);
      else if (s.own) targets = new Set([...this.ctx.ownDevices(), ...s.add]);
      else targets = new Set([...store.sessionsForAccount(accountId, zone).map((x) => x.deviceId), ...s.add]);
      for (const d of s.remove) targets.delete(d);
      if (s.own) targets.delete(me.deviceId);

      if (!s.own && !s.only && targets.size === 0) {
        // First contact: every device of the account.
        const res = await this.ctx.api().fetchBundles(accountId, '*');
        for (const d of res.devices) {
          if (s.remove.has(d.deviceId)) continue;
          await this.processBundle(accountId, res.identityKey, d, ad);
          targets.add(d.deviceId);
        }
      } else {
        for (const d of [...targets].sort((x, y) => x - y)) {
          if (haveSession(d) && !s.fresh.has(d)) continue;
          let res;
          try {
            res = await this.ctx.api().fetchBundles(accountId, d);
          } catch (e) {
            if (e instanceof ServerError && e.status === 404) {
              targets.delete(d);
              s.remove.add(d);
              continue;
            }
            throw e;
          }
          const b = res.devices.find((x) => x.deviceId === d);
          if (!b) {
            targets.delete(d);
            continue;
          }
          await this.processBundle(accountId, res.identityKey, b, ad);
        }
      }
      s.fresh.clear();
      if (targets.size === 0) {
        store.discard(zone);
        return undefined;
      }
      const local = ProtocolAddress.new(me.accountId, me.deviceId);
      const messages: OutgoingMessage[] = [];
      for (const d of [...targets].sort((x, y) => x - y)) {
        const ct = await signalEncrypt(content, addr(d), local, ad.sessions, ad.identity);
        const rec = SessionRecord.deserialize(store.getSession(addr(d).toString(), zone)!);
        if (s.seal) {
          // The envelope says "sealed" and nothing else: who sent it is inside, for the recipient only.
          const usmc = UnidentifiedSenderMessageContent.new(ct, s.seal, ContentHint.Resendable, null);
          messages.push({
            deviceId: d,
            registrationId: rec.remoteRegistrationId(),
            type: EnvelopeType.Sealed,
            content: b64(await sealedSenderEncrypt(usmc, addr(d), ad.identity)),
          });
          continue;
        }
        messages.push({
          deviceId: d,
          registrationId: rec.remoteRegistrationId(),
          type: ct.type() as OutgoingMessage['type'],
          content: b64(ct.serialize()),
        });
      }
      store.commit(zone, s.extra);
      // No wire timestamp on sealed sends nor on copies to our own devices: equal to the
      // content's (inside the ciphertext), it would join a sync copy to the sealed
      // envelopes it accompanies and name their sender.
      return { ...(s.seal || s.own ? {} : { timestamp }), messages, ...(s.only ? { resend: true } : {}) };
    } catch (e) {
      store.discard(zone);
      if (e instanceof LibSignalErrorBase && e.code === SignalErrorCode.UntrustedIdentity) {
        const u = ad.identity.untrusted.find((x) => x.accountId === accountId);
        this.markPending(accountId, u?.key, s.username);
        throw new IdentityChangedError(s.username ?? this.ctx.data.usernameOf(accountId) ?? accountId, accountId);
      }
      throw e;
    }
  }

  /** First contact outside a send: sessions with every device of `accountId`, committed together. */
  async establishSessions(accountId: string): Promise<void> {
    const { store } = this.ctx;
    if (store.getIdentity(accountId)) return;
    const res = await this.ctx.api().fetchBundles(accountId, '*');
    const zone = store.zone('establish');
    const ad = this.ctx.adapters(zone);
    try {
      for (const d of res.devices) await this.processBundle(accountId, res.identityKey, d, ad);
      store.commit(zone);
    } catch (e) {
      store.discard(zone);
      throw e;
    }
  }

  /** Builds a session with one device of `accountId` from its prekey bundle. */
  async processBundle(accountId: string, identityKey: string, d: DeviceBundle, ad: Adapters): Promise<void> {
    const me = this.ctx.me();
    await processPreKeyBundle(
      bundleFor(identityKey, d),
      ProtocolAddress.new(accountId, d.deviceId),
      ProtocolAddress.new(me.accountId, me.deviceId),
      ad.sessions,
      ad.identity,
    );
  }

  /** Records a refused identity key as pending (outside any zone) and reports it once. */
  markPending(accountId: string, key: Uint8Array<ArrayBuffer> | undefined, username?: string): void {
    const { store } = this.ctx;
    const row = store.getIdentity(accountId);
    if (!row || !key) return;
    // Already pending (sending stays blocked until trust()), or not actually a different key.
    if (row.status === 'changed-pending' || equal(row.publicKey, key)) return;
    store.putIdentity({ ...row, status: 'changed-pending', pendingKey: key, verified: false, updatedAt: this.ctx.now() });
    this.ctx.emit('identity-changed', { username: username ?? this.ctx.data.usernameOf(accountId) ?? accountId, accountId });
  }
}

/** A 410 for one account: rebuild the sessions with these devices. */
export function applyStale(s: AccountSendState, stale: readonly number[]): void {
  for (const d of stale) s.fresh.add(d);
}
