/**
 * The receive path, file by file (Signal-Desktop's decryptAndCacheBatch, one envelope at a time):
 * - transport/socket.ts: an envelope frame arrives; client/connection.ts hands it to
 *   Receiver.enqueue, whose one SerialQueue keeps arrival order for everything below.
 * - receiver.ts, stage 1: a guid already processed is acked and dropped. A sealed envelope is
 *   opened and its sender certificate checked (against sealed/sealed-sender.ts's pinned root).
 *   Under the sender's lock, libsignal decrypts inside a store zone (store/protocol-store.ts,
 *   its writes buffered), the Content is decoded and a sender-key distribution processed; then
 *   settle() commits the zone, the processed guid and the plaintext (store/inbox-store.ts,
 *   table `inbox`) in ONE transaction, and only then acks. Every other outcome — duplicate,
 *   undecryptable (a resend request is recorded: inbox/resend-requests.ts), refused — goes
 *   through settle() too: the one place that commits, acks and reports.
 * - inbox/inbox-drain.ts, stage 2: after each envelope (and before 'queue-empty') the inbox is
 *   applied oldest first, leftovers of an earlier run included: the sender's username (HTTP,
 *   no lock, no transaction), then one transaction running conversations/incoming.ts (the
 *   applier) and deleting the row; events after. A row that fails MAX_APPLY_ATTEMPTS times
 *   becomes a dead letter (no content) with a "could not be shown" marker, and the next goes on.
 */
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
import { decodeContent, EnvelopeType } from '@kluis/protocol';
import type { Ctx } from './context.js';
import type { IncomingApplier } from './conversations/incoming.js';
import { KluisError, type SdkErrorCode } from './errors.js';
import { InboxDrain } from './inbox/inbox-drain.js';
import { ResendRequests } from './inbox/resend-requests.js';
import { SerialQueue } from './mutex.js';
import type { Sender } from './sender.js';
import type { SealedSender } from './sealed/sealed-sender.js';
import { equal, type Adapters } from './store/adapters.js';
import { InboxStore } from './store/inbox-store.js';
import type { Zone } from './store/protocol-store.js';
import type { ClientHooks, ReceivedEnvelope } from './types.js';

export { MAX_RESENDS, SEALED_RESEND_WINDOW_MS } from './inbox/resend-requests.js';
export { MAX_APPLY_ATTEMPTS } from './inbox/inbox-drain.js';

type Decrypted = { kind: 'cached'; changed: string[] } | { kind: 'dropped' } | { kind: 'failed' };

export class Receiver {
  readonly inbox: InboxStore;
  readonly resendRequests: ResendRequests;
  private readonly stage2: InboxDrain;
  private readonly queue = new SerialQueue();

  constructor(
    private readonly ctx: Ctx,
    sender: Sender,
    private readonly hooks: ClientHooks,
    private readonly ack: (guid: string) => void,
    applier: IncomingApplier,
    private readonly sealed?: SealedSender,
  ) {
    this.inbox = new InboxStore(ctx.data.db, ctx.now);
    this.stage2 = new InboxDrain(ctx, this.inbox, applier, hooks);
    this.resendRequests = new ResendRequests(ctx, sender);
  }

  enqueue(envelope: ReceivedEnvelope): void {
    void this.queue.push(async () => {
      await this.process(envelope).catch((e: unknown) => this.report(e));
      await this.drainInbox();
    });
  }

  /** Runs fn once everything enqueued before it was processed and applied. */
  after(fn: () => void): void {
    void this.queue
      .push(async () => {
        await this.drainInbox();
        fn();
      })
      .catch((e: unknown) => this.report(e));
  }

  idle(): Promise<void> {
    return this.queue.idle();
  }

  /** Envelopes received and not yet processed (diagnostics). */
  get backlog(): number {
    return this.queue.size;
  }

  /** Sends every recorded, unsent resend request. */
  flushResendRequests(): void {
    this.resendRequests.flush();
  }

  /** Stage 1 of one envelope: decrypt, commit with the plaintext into the inbox, ack. */
  async process(env: ReceivedEnvelope): Promise<void> {
    if (this.ctx.data.isProcessed(env.guid)) return this.ack(env.guid);
    switch (env.type) {
      case EnvelopeType.Whisper:
      case EnvelopeType.PreKey:
      case EnvelopeType.SenderKey:
        return this.processCiphertext(env, false);
      case EnvelopeType.Plaintext:
        return this.processPlaintext(env);
      case EnvelopeType.Sealed:
        return this.processSealed(env);
      default:
        return this.settle(env, { error: new KluisError('UNSUPPORTED_ENVELOPE', `envelope type ${env.type} is not supported yet`) });
    }
  }

  /**
   * The one place an envelope is finished: the test hook, then one transaction (the zone's
   * libsignal writes, the processed guid, `write`), then the ack — never before the commit —
   * then the error to report, if any.
   */
  private async settle(env: ReceivedEnvelope, o: { zone?: Zone; write?: () => void; error?: Error } = {}): Promise<void> {
    const { store, data } = this.ctx;
    await this.hooks.beforeCommit?.(env);
    const writes = () => {
      data.markProcessed(env.guid);
      o.write?.();
    };
    if (o.zone) store.commit(o.zone, writes);
    else store.transaction(writes);
    this.ack(env.guid);
    if (o.error) this.ctx.emit('error', o.error);
  }

  /**
   * Sealed sender: open the outer layer with our identity key, check the sender
   * certificate against the pinned trust root, then handle the inner message as if the
   * envelope had named its sender. A forged or expired certificate is refused (acked, shown as an error).
   */
  private async processSealed(env: ReceivedEnvelope): Promise<void> {
    const refuse = (code: SdkErrorCode, message: string) => this.settle(env, { error: new KluisError(code, message) });
    const trustRoot = this.sealed?.pinnedTrustRoot() ?? (await this.sealed?.trustRoot());
    if (!trustRoot) return refuse('SEALED_UNSUPPORTED', 'a sealed message arrived but no trust root is pinned');
    let usmc: UnidentifiedSenderMessageContent;
    try {
      usmc = await sealedSenderDecryptToUsmc(env.content, this.ctx.adapters().identity);
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
      const known = this.ctx.store.getIdentity(src);
      const key = cert.key().serialize();
      if (known && !equal(known.publicKey, key) && !(known.pendingKey && equal(known.pendingKey, key)))
        return refuse('SENDER_CERTIFICATE_MISMATCH', 'a sealed message’s certificate names an identity key that is not the sender’s; it was dropped');
    }
    const inner: ReceivedEnvelope = { ...env, type, sourceAccount: src, sourceDevice: dev, content: usmc.contents() };
    if (type === EnvelopeType.Plaintext) return this.processPlaintext(inner);
    if (type === EnvelopeType.Whisper || type === EnvelopeType.PreKey || type === EnvelopeType.SenderKey) return this.processCiphertext(inner, true);
    return refuse('UNSUPPORTED_ENVELOPE', `sealed message of inner type ${type} is not supported`);
  }

  private async processCiphertext(env: ReceivedEnvelope, sealed: boolean): Promise<void> {
    const src = env.sourceAccount;
    const dev = env.sourceDevice;
    if (!src || !dev)
      return this.settle(env, { error: new KluisError('UNSUPPORTED_ENVELOPE', 'an envelope without a sender that is not sealed was dropped') });
    const outcome = await this.ctx.locks.run(src, () => this.decryptAndCache(env, src, dev, sealed));
    if (outcome.kind === 'failed') {
      this.ctx.emit('decryption-error', { accountId: src, deviceId: dev, timestamp: env.timestamp ?? 0 });
      this.resendRequests.flush();
      return;
    }
    if (outcome.kind === 'dropped') return;
    for (const accountId of new Set(outcome.changed))
      this.ctx.emit('identity-changed', { username: this.ctx.data.usernameOf(accountId) ?? accountId, accountId });
    if (env.type === EnvelopeType.PreKey) this.ctx.preKeyUsed?.();
  }

  /** Under the sender's lock: decrypt in a zone, then commit the session state and the plaintext together. */
  private async decryptAndCache(env: ReceivedEnvelope, src: string, dev: number, sealed: boolean): Promise<Decrypted> {
    const { store, data } = this.ctx;
    const remote = ProtocolAddress.new(src, dev);
    const bytes = env.content;
    const zone = store.zone('receive');
    const ad = this.ctx.adapters(zone);
    let plaintext: Uint8Array;
    try {
      plaintext = await this.decrypt(env.type, bytes, remote, ad);
    } catch (error) {
      store.discard(zone);
      if (error instanceof LibSignalErrorBase && error.code === SignalErrorCode.DuplicatedMessage) {
        await this.settle(env);
        return { kind: 'dropped' };
      }
      // The original's timestamp names the message to resend. Sealed envelopes carry none
      // (it would join them to their sender's other rows): the request then says 0, the
      // sender only rebuilds the session, and the gap in the conversation's counters
      // (incoming.ts) asks for the lost message once the next one arrives.
      const timestamp = env.timestamp ?? 0;
      let request: Uint8Array<ArrayBuffer>;
      try {
        request = PlaintextContent.from(DecryptionErrorMessage.forOriginal(bytes, env.type as CiphertextMessageType, timestamp, dev)).serialize();
      } catch {
        // Not even a ciphertext: nothing to ask for again, and kept it would come back forever.
        await this.settle(env, { error: new KluisError('DECRYPTION_FAILED', 'an unreadable envelope was dropped') });
        return { kind: 'failed' };
      }
      const registrationId = this.registrationIdOf(remote.toString(), env.type, bytes);
      await this.settle(env, {
        write: () =>
          data.putDecryptionError({ guid: env.guid, accountId: src, deviceId: dev, timestamp, registrationId, request, createdAt: this.ctx.now() }),
      });
      return { kind: 'failed' };
    }

    let cached = false;
    let contentError: Error | undefined;
    try {
      const content = decodeContent(plaintext);
      // Sender keys travel over 1:1 sessions only; one inside a group message is ignored.
      if (content.senderKeyDistribution && env.type !== EnvelopeType.SenderKey)
        await processSenderKeyDistributionMessage(
          remote,
          SenderKeyDistributionMessage.deserialize(content.senderKeyDistribution as Uint8Array<ArrayBuffer>),
          ad.senderKeys,
        );
      cached = true;
    } catch (e) {
      contentError = e instanceof Error ? e : new Error(String(e));
    }
    const content = new Uint8Array(plaintext) as Uint8Array<ArrayBuffer>;
    await this.settle(env, {
      zone,
      ...(contentError ? { error: contentError } : {}),
      write: () => {
        if (cached)
          this.inbox.put({
            guid: env.guid,
            sourceAccount: src,
            sourceDevice: dev,
            serverTimestamp: env.serverTimestamp,
            sealed,
            viaSenderKey: env.type === EnvelopeType.SenderKey,
            content,
          });
      },
    });
    return { kind: 'cached', changed: ad.identity.changed.map((c) => c.accountId) };
  }

  private async decrypt(type: number, bytes: Uint8Array<ArrayBuffer>, remote: ProtocolAddress, ad: Adapters): Promise<Uint8Array> {
    if (type === EnvelopeType.SenderKey) return groupDecrypt(remote, ad.senderKeys, bytes);
    const me = this.ctx.me();
    const local = ProtocolAddress.new(me.accountId, me.deviceId);
    if (type === EnvelopeType.PreKey)
      return signalDecryptPreKey(PreKeySignalMessage.deserialize(bytes), remote, local, ad.sessions, ad.identity, ad.preKeys, ad.signedPreKeys, ad.kyberPreKeys);
    return signalDecrypt(SignalMessage.deserialize(bytes), remote, local, ad.sessions, ad.identity);
  }

  /** Type 8: a DecryptionErrorMessage asking us to resend one of our messages. */
  private async processPlaintext(env: ReceivedEnvelope): Promise<void> {
    const me = this.ctx.me();
    const src = env.sourceAccount;
    const dev = env.sourceDevice;
    let dem: DecryptionErrorMessage | undefined;
    let error: KluisError | undefined;
    try {
      dem = DecryptionErrorMessage.extractFromSerializedBody(PlaintextContent.deserialize(env.content).body());
    } catch (e) {
      error = new KluisError('BAD_RESEND_REQUEST', `unreadable resend request: ${(e as Error).message}`);
    }
    await this.settle(env, error ? { error } : {});
    if (!dem || !src || !dev || dem.deviceId() !== me.deviceId) return;
    const timestamp = dem.timestamp();
    this.ctx.background('resend', () => this.resendRequests.answer(src, dev, timestamp));
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

  private drainInbox(): Promise<void> {
    return this.stage2.drain().catch((e: unknown) => this.report(e));
  }

  private report(e: unknown): void {
    this.ctx.emit('error', asError(e));
  }
}

export function asError(e: unknown): Error {
  return e instanceof Error ? e : new Error(String(e));
}
