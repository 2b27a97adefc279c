import {
  CiphertextMessageType,
  DecryptionErrorMessage,
  ErrorCode as SignalErrorCode,
  LibSignalErrorBase,
  PlaintextContent,
  PreKeySignalMessage,
  ProtocolAddress,
  SessionRecord,
  SenderKeyDistributionMessage,
  SignalMessage,
  groupDecrypt,
  processSenderKeyDistributionMessage,
  sealedSenderDecryptToUsmc,
  UnidentifiedSenderMessageContent,
  signalDecrypt,
  signalDecryptPreKey,
} from '@signalapp/libsignal-client';
import { decodeContent, EnvelopeType, type Content, type Envelope } from '@kluis/protocol';
import type { Ctx } from './context.js';
import { Effects, type IncomingApplier } from './conversations/incoming.js';
import { toStored } from './conversations/stored.js';
import { KluisError, ServerError } from './errors.js';
import { b64, unb64 } from './keys.js';
import { SerialQueue } from './mutex.js';
import type { Sender } from './sender.js';
import type { SealedSender } from './sealed/sealed-sender.js';
import { equal } from './store/adapters.js';
import type { DecryptionErrorRow } from './store/data-store.js';
import type { ClientHooks } from './types.js';

/** A sent message is resent at most this often in answer to resend requests. */
export const MAX_RESENDS = 3;
/**
 * A resend request for a sealed envelope (no timestamp) is answered with the latest
 * message to that account at most this old: as long as sent content is kept (24 h), so a
 * recipient who was offline for hours still gets it; resending the wrong one is harmless
 * (receivers drop duplicates by sender and timestamp).
 */
export const SEALED_RESEND_WINDOW_MS = 24 * 60 * 60 * 1000;

type Outcome =
  | { kind: 'stored'; effects: Effects; changed: string[] }
  | { kind: 'duplicate' }
  | { kind: 'failed'; error: unknown; registrationId: number | null };

/**
 * The receive pipeline. Envelopes are processed one at a time in arrival order:
 * known guid → ack; decrypt inside a zone; commit the session state and the message in one
 * transaction; emit; ack. A failure to decrypt records a resend request for the sender.
 */
export class Receiver {
  private readonly queue = new SerialQueue();
  private demFlush: Promise<void> | undefined;
  private demFlushAgain = false;

  constructor(
    private readonly ctx: Ctx,
    private readonly sender: Sender,
    private readonly hooks: ClientHooks,
    private readonly ack: (guid: string) => void,
    private readonly applier: IncomingApplier,
    private readonly sealed?: SealedSender,
  ) {}

  enqueue(envelope: Envelope): void {
    void this.queue
      .push(() => this.process(envelope))
      .catch((e: unknown) => this.ctx.emit('error', asError(e)));
  }

  /** Runs fn once everything enqueued before it was processed. */
  after(fn: () => void): void {
    void this.queue.push(async () => fn()).catch((e: unknown) => this.ctx.emit('error', asError(e)));
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Envelopes received and not yet processed (diagnostics). */
  get backlog(): number {
    return this.queue.size;
  }

  async process(env: Envelope): Promise<void> {
    const { data } = this.ctx;
    if (data.isProcessed(env.guid)) return this.ack(env.guid);
    switch (env.type) {
      case EnvelopeType.Whisper:
      case EnvelopeType.PreKey:
      case EnvelopeType.SenderKey:
        return this.processCiphertext(env);
      case EnvelopeType.Plaintext:
        return this.processPlaintext(env);
      case EnvelopeType.Sealed:
        return this.processSealed(env);
      default:
        await this.hooks.beforeCommit?.(env);
        data.markProcessed(env.guid);
        this.ack(env.guid);
        this.ctx.emit('error', new KluisError('UNSUPPORTED_ENVELOPE', `envelope type ${env.type} is not supported yet`));
    }
  }

  /**
   * Sealed sender: open the outer layer with our identity key, check the sender
   * certificate against the pinned trust root, then handle the inner message as if the
   * envelope had named its sender. A forged or expired certificate is refused (acked, shown as an error).
   */
  private async processSealed(env: Envelope): Promise<void> {
    const { data, store } = this.ctx;
    const refuse = async (code: string, message: string) => {
      await this.hooks.beforeCommit?.(env);
      data.markProcessed(env.guid);
      this.ack(env.guid);
      this.ctx.emit('error', new KluisError(code, message));
    };
    const trustRoot = this.sealed?.pinnedTrustRoot() ?? (await this.sealed?.trustRoot());
    if (!trustRoot) return refuse('SEALED_UNSUPPORTED', 'a sealed message arrived but no trust root is pinned');
    let usmc: UnidentifiedSenderMessageContent;
    try {
      usmc = await sealedSenderDecryptToUsmc(unb64(env.content), this.ctx.adapters().identity);
    } catch (e) {
      return refuse('SEALED_UNREADABLE', `a sealed message could not be opened: ${(e as Error).message}`);
    }
    const cert = usmc.senderCertificate();
    if (!cert.validate(trustRoot, this.ctx.now()))
      return refuse('FORGED_SENDER_CERTIFICATE', 'a sealed message carried a sender certificate the pinned trust root does not vouch for (or an expired one); it was dropped');
    const src = cert.senderUuid();
    const dev = cert.senderDeviceId();
    const type = usmc.msgType();
    if (type !== EnvelopeType.PreKey) {
      // The certificate must name the identity our session with that account has.
      const known = store.getIdentity(src);
      const key = cert.key().serialize();
      if (known && !equal(known.publicKey, key) && !(known.pendingKey && equal(known.pendingKey, key)))
        return refuse('SENDER_CERTIFICATE_MISMATCH', 'a sealed message’s certificate names an identity key that is not the sender’s; it was dropped');
    }
    const inner: Envelope = { ...env, type: type as Envelope['type'], sourceAccount: src, sourceDevice: dev, content: b64(usmc.contents()) };
    if (type === EnvelopeType.Plaintext) return this.processPlaintext(inner);
    if (type === EnvelopeType.Whisper || type === EnvelopeType.PreKey || type === EnvelopeType.SenderKey) return this.processCiphertext(inner);
    return refuse('UNSUPPORTED_ENVELOPE', `sealed message of inner type ${type} is not supported`);
  }

  private async processCiphertext(env: Envelope): Promise<void> {
    const { store, data } = this.ctx;
    const me = this.ctx.me();
    const src = env.sourceAccount;
    const dev = env.sourceDevice;
    if (!src || !dev) {
      await this.hooks.beforeCommit?.(env);
      data.markProcessed(env.guid);
      this.ack(env.guid);
      this.ctx.emit('error', new KluisError('UNSUPPORTED_ENVELOPE', 'an envelope without a sender that is not sealed was dropped'));
      return;
    }
    const remote = ProtocolAddress.new(src, dev);
    const local = ProtocolAddress.new(me.accountId, me.deviceId);
    const bytes = unb64(env.content);

    const outcome = await this.ctx.locks.run(src, async (): Promise<Outcome> => {
      const zone = store.zone('receive');
      const ad = this.ctx.adapters(zone);
      let plaintext: Uint8Array;
      try {
        if (env.type === EnvelopeType.SenderKey) plaintext = await groupDecrypt(remote, ad.senderKeys, bytes);
        else
          plaintext =
            env.type === EnvelopeType.PreKey
              ? await signalDecryptPreKey(
                  PreKeySignalMessage.deserialize(bytes),
                  remote,
                  local,
                  ad.sessions,
                  ad.identity,
                  ad.preKeys,
                  ad.signedPreKeys,
                  ad.kyberPreKeys,
                )
              : await signalDecrypt(SignalMessage.deserialize(bytes), remote, local, ad.sessions, ad.identity);
      } catch (error) {
        store.discard(zone);
        if (error instanceof LibSignalErrorBase && error.code === SignalErrorCode.DuplicatedMessage) return { kind: 'duplicate' };
        return { kind: 'failed', error, registrationId: this.registrationIdOf(remote.toString(), env.type, bytes) };
      }

      let content: Content | undefined;
      let contentError: unknown;
      try {
        content = decodeContent(plaintext);
        // Sender keys travel over 1:1 sessions only; one inside a group message is ignored.
        if (content.senderKeyDistribution && env.type !== EnvelopeType.SenderKey)
          await processSenderKeyDistributionMessage(
            remote,
            SenderKeyDistributionMessage.deserialize(content.senderKeyDistribution as Uint8Array<ArrayBuffer>),
            ad.senderKeys,
          );
      } catch (e) {
        contentError = e;
        content = undefined;
      }
      let senderUsername = me.username;
      let contact: { accountId: string; username: string } | undefined;
      if (content && src !== me.accountId) {
        const sender = await this.resolveSender(src, claimedUsername(content));
        senderUsername = sender.username;
        if (sender.verified) contact = { accountId: src, username: sender.username };
      }

      await this.hooks.beforeCommit?.(env);
      let effects = new Effects();
      store.commit(zone, () => {
        data.markProcessed(env.guid);
        if (contact) data.putContact(contact.accountId, contact.username);
        if (content)
          effects = this.applier.apply(
            {
              guid: env.guid,
              serverTimestamp: env.serverTimestamp,
              src,
              dev,
              senderUsername,
              viaSenderKey: env.type === EnvelopeType.SenderKey,
            },
            content,
          );
      });
      if (contentError) this.ctx.emit('error', asError(contentError));
      return { kind: 'stored', effects, changed: ad.identity.changed.map((c) => c.accountId) };
    });

    if (outcome.kind === 'duplicate') {
      await this.hooks.beforeCommit?.(env);
      data.markProcessed(env.guid);
      return this.ack(env.guid);
    }
    if (outcome.kind === 'failed') {
      // The original's timestamp names the message to resend. Sealed envelopes carry none
      // (it would join them to their sender's other rows): the request then says 0, the
      // sender only rebuilds the session, and the gap in the conversation's counters
      // (incoming.ts) asks for the lost message once the next one arrives.
      const timestamp = env.timestamp ?? 0;
      const request = PlaintextContent.from(
        DecryptionErrorMessage.forOriginal(bytes, env.type as CiphertextMessageType, timestamp, dev),
      ).serialize();
      await this.hooks.beforeCommit?.(env);
      store.transaction(() => {
        data.putDecryptionError({
          guid: env.guid,
          accountId: src,
          deviceId: dev,
          timestamp,
          registrationId: outcome.registrationId,
          request,
          createdAt: this.ctx.now(),
        });
        data.markProcessed(env.guid);
      });
      this.ctx.emit('decryption-error', { accountId: src, deviceId: dev, timestamp });
      this.ack(env.guid);
      this.flushResendRequests();
      return;
    }
    for (const accountId of new Set(outcome.changed))
      this.ctx.emit('identity-changed', { username: data.usernameOf(accountId) ?? accountId, accountId });
    if (env.type === EnvelopeType.PreKey) this.ctx.preKeyUsed?.();
    this.ack(env.guid);
    this.emitEffects(outcome.effects);
  }

  private emitEffects(fx: Effects): void {
    const { data, conv } = this.ctx;
    const name = (a: string) => data.usernameOf(a);
    for (const m of fx.created) this.ctx.emit('message', toStored(m, conv, name));
    for (const id of fx.updated) {
      const m = data.getMessage(id);
      if (m) this.ctx.emit('message-updated', toStored(m, conv, name));
    }
    for (const r of fx.removed) this.ctx.emit('message-removed', r);
    for (const fn of fx.later) {
      try {
        fn();
      } catch (e) {
        this.ctx.emit('error', asError(e));
      }
    }
  }

  /** Type 8: a DecryptionErrorMessage asking us to resend one of our messages. */
  private async processPlaintext(env: Envelope): Promise<void> {
    const { data } = this.ctx;
    const me = this.ctx.me();
    const src = env.sourceAccount;
    const dev = env.sourceDevice;
    let dem: DecryptionErrorMessage | undefined;
    try {
      dem = DecryptionErrorMessage.extractFromSerializedBody(PlaintextContent.deserialize(unb64(env.content)).body());
    } catch (e) {
      this.ctx.emit('error', new KluisError('BAD_RESEND_REQUEST', `unreadable resend request: ${(e as Error).message}`));
    }
    await this.hooks.beforeCommit?.(env);
    data.markProcessed(env.guid);
    this.ack(env.guid);
    if (!dem || !src || !dev || dem.deviceId() !== me.deviceId) return;
    const timestamp = dem.timestamp();
    this.ctx.background('resend', () => this.resend(src, dev, timestamp));
  }

  /** Answers a resend request: drop the session with that device, resend the original over a fresh one. */
  async resend(accountId: string, deviceId: number, timestamp: number): Promise<void> {
    const { store, data } = this.ctx;
    const address = ProtocolAddress.new(accountId, deviceId).toString();
    await this.ctx.locks.run(accountId, () => store.deleteSession(address));
    // A fresh session means that device lost our sender keys too: hand them out again.
    this.ctx.conv.forgetSenderKeyShared(address);
    // 0: the lost envelope was sealed and carried no timestamp. The latest 1:1 message to
    // them is the likely one (a duplicate is dropped by its content timestamp); anything
    // older shows as a gap in the counters once it arrives, and is asked for by counter.
    const sent = timestamp === 0 ? data.latestSentTo(accountId, this.ctx.now() - SEALED_RESEND_WINDOW_MS) : data.getSentContent(timestamp, accountId);
    if (!sent || sent.resends >= MAX_RESENDS) return;
    data.bumpResends(sent.timestamp, sent.accountId);
    await this.sender.sendToAccount(accountId, sent.content, sent.timestamp, {
      onlyDevices: [deviceId],
      freshDevices: [deviceId],
    });
  }

  /** Sends every recorded, unsent resend request (envelope type 8, `resend: true`). */
  flushResendRequests(): void {
    if (this.demFlush) {
      this.demFlushAgain = true;
      return;
    }
    const run = async () => {
      do {
        this.demFlushAgain = false;
        for (const row of this.ctx.data.unsentDecryptionErrors()) await this.sendResendRequest(row);
      } while (this.demFlushAgain);
    };
    const p = run().finally(() => {
      if (this.demFlush === p) this.demFlush = undefined;
    });
    this.demFlush = p;
    this.ctx.background('resend request', () => p);
  }

  private async sendResendRequest(row: DecryptionErrorRow): Promise<void> {
    let registrationId = row.registrationId;
    for (let attempt = 0; attempt < 2; attempt++) {
      if (registrationId === null || attempt > 0) {
        try {
          const res = await this.ctx.api().fetchBundles(row.accountId, row.deviceId);
          registrationId = res.devices.find((d) => d.deviceId === row.deviceId)?.registrationId ?? null;
        } catch (e) {
          if (!(e instanceof ServerError && e.status === 404)) throw e;
          registrationId = null;
        }
        if (registrationId === null) break; // the device is gone
      }
      const res = await this.ctx.transmit(row.accountId, {
        timestamp: this.ctx.now(),
        resend: true,
        messages: [{ deviceId: row.deviceId, registrationId, type: EnvelopeType.Plaintext, content: b64(row.request) }],
      });
      if (res.status === 410) continue;
      if (res.status >= 300 && res.status !== 409)
        throw new ServerError(res.status, 'RESEND_REQUEST_FAILED', `resend request answered ${res.status}`, res.body);
      break;
    }
    this.ctx.data.markDecryptionErrorSent(row.guid);
  }

  private registrationIdOf(address: string, type: number, bytes: Uint8Array<ArrayBuffer>): number | null {
    try {
      if (type === EnvelopeType.PreKey) return PreKeySignalMessage.deserialize(bytes).registrationId();
    } catch {
      /* fall through */
    }
    try {
      const rec = this.ctx.store.getSession(address);
      if (rec) return SessionRecord.deserialize(rec).remoteRegistrationId();
    } catch {
      /* unknown */
    }
    return null;
  }

  /** The sender's username: our contact cache, else the claimed name checked against the server. */
  private async resolveSender(accountId: string, claimed: string): Promise<{ username: string; verified: boolean }> {
    const known = this.ctx.data.usernameOf(accountId);
    if (known) return { username: known, verified: true };
    if (!claimed) return { username: accountId, verified: false };
    try {
      const r = await this.ctx.api().lookupUsername(claimed);
      if (r.accountId === accountId) return { username: r.username, verified: true };
      return { username: accountId, verified: false };
    } catch (e) {
      if (e instanceof ServerError && e.status === 404) return { username: accountId, verified: false };
      return { username: claimed, verified: false };
    }
  }
}

function claimedUsername(c: Content): string {
  if (c.body.case === 'data') return c.body.value.senderUsername;
  if (c.body.case === 'edit') return c.body.value.data?.senderUsername ?? '';
  return '';
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
