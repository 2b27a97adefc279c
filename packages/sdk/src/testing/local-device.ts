import { randomUUID } from 'node:crypto';
import {
  IdentityKeyPair,
  KyberPreKeyRecord,
  PreKeyBundle,
  ProtocolAddress,
  SignedPreKeyRecord,
  processPreKeyBundle,
  signalEncrypt,
} from '@signalapp/libsignal-client';
import { encodeContent, type ContentInit } from '@kluis/protocol';
import type { ReceivedEnvelope } from '../types.js';
import { loadAccount, saveAccount, type AccountState } from '../account.js';
import type { Ctx } from '../context.js';
import { IncomingApplier, type Followups } from '../conversations/incoming.js';
import { ServerError } from '../errors.js';
import { GroupBook } from '../groups/group-book.js';
import { b64, generateKyberPreKey, generateRegistrationId, generateSignedPreKey } from '../keys.js';
import { KeyedMutex } from '../mutex.js';
import { Adapters } from '../store/adapters.js';
import { ConversationStore } from '../store/conversation-store.js';
import { DataStore } from '../store/data-store.js';
import { openDatabase, type Db } from '../store/db.js';
import { ProtocolStore } from '../store/protocol-store.js';
import type { HttpApi } from '../transport/http.js';
import type { ClientEvents } from '../types.js';

/**
 * A device without a client, server or socket, for the receive path's unit tests: the real
 * SQLCipher store, a real identity and signed prekeys, and the few context members the
 * receive path uses. Reopening the same path is a restart.
 */
export interface LocalDevice {
  readonly db: Db;
  readonly store: ProtocolStore;
  readonly data: DataStore;
  readonly conv: ConversationStore;
  readonly account: AccountState;
  readonly ctx: Ctx;
  readonly applier: IncomingApplier;
  /** Every event emitted through ctx, in order. */
  readonly events: Array<{ event: keyof ClientEvents; args: unknown[] }>;
  /** Usernames looked up over "HTTP" (ctx.api().lookupUsername). */
  readonly lookups: string[];
  /** The device's bundle, as the server would hand it out (signed and Kyber prekeys, no one-time key). */
  bundle(): PreKeyBundle;
  address(): ProtocolAddress;
  close(): void;
}

export interface LocalDeviceOptions {
  /** The server's answer to a username lookup (default: 404). */
  lookupUsername?: (username: string) => Promise<{ accountId: string; username: string }>;
}

export function openLocalDevice(path: string, username: string, o: LocalDeviceOptions = {}): LocalDevice {
  const db = openDatabase(path, 'pw');
  const now = () => Date.now();
  const store = new ProtocolStore(db, now);
  const data = new DataStore(db, now);
  const conv = new ConversationStore(db, now);
  let account = loadAccount(data);
  if (!account) {
    account = {
      accountId: randomUUID(),
      username,
      deviceId: 1,
      serverUrl: 'http://127.0.0.1:9',
      password: 'unused',
      registrationId: generateRegistrationId(),
      identityKeyPair: IdentityKeyPair.generate(),
    };
    saveAccount(data, account);
    const spk = generateSignedPreKey(account.identityKeyPair, 1, now());
    store.saveSignedPreKey({ id: 1, record: spk.record.serialize(), createdAt: now(), replacedAt: null });
    const kyber = generateKyberPreKey(account.identityKeyPair, 1, now());
    store.saveKyberPreKey({ id: 1, record: kyber.record.serialize(), lastResort: true, createdAt: now(), replacedAt: null });
  }
  const me = account;
  const events: LocalDevice['events'] = [];
  const lookups: string[] = [];
  const api = {
    lookupUsername: async (u: string) => {
      lookups.push(u);
      if (o.lookupUsername) return o.lookupUsername(u);
      throw new ServerError(404, 'NOT_FOUND', 'no such user');
    },
  } as unknown as HttpApi;
  // Only what the receive path uses; the rest of Ctx is the client's business.
  const ctx = {
    store,
    data,
    conv,
    locks: new KeyedMutex(),
    now,
    me: () => me,
    api: () => api,
    adapters: (zone?: Parameters<Ctx['adapters']>[0]) =>
      new Adapters(store, { identityKeyPair: me.identityKeyPair, registrationId: me.registrationId }, zone, now),
    emit: (event: keyof ClientEvents, ...args: unknown[]) => void events.push({ event, args }),
    background: (_what: string, task: () => Promise<unknown>) => void task().catch(() => undefined),
  } as unknown as Ctx;
  const book = new GroupBook(conv, () => me.accountId, (a) => data.usernameOf(a));
  const follow: Followups = {
    deliveryReceipt: () => undefined,
    fetchProfile: () => undefined,
    downloadAttachments: () => undefined,
    discardAttachments: () => undefined,
    resend: () => undefined,
    groupChanged: () => undefined,
  };
  return {
    db,
    store,
    data,
    conv,
    account: me,
    ctx,
    applier: new IncomingApplier(ctx, book, follow),
    events,
    lookups,
    bundle: () => {
      const spk = store.getSignedPreKey(1)!;
      const kyber = store.getKyberPreKey(1)!;
      const s = SignedPreKeyRecord.deserialize(spk.record);
      const k = KyberPreKeyRecord.deserialize(kyber.record);
      return PreKeyBundle.new(
        me.registrationId,
        me.deviceId,
        null,
        null,
        1,
        s.publicKey(),
        s.signature(),
        me.identityKeyPair.publicKey,
        1,
        k.publicKey(),
        k.signature(),
      );
    },
    address: () => ProtocolAddress.new(me.accountId, me.deviceId),
    close: () => db.close(),
  };
}

/** `from` encrypts `content` to `to` (a session from `to`'s bundle the first time): the envelope the server would queue. */
export async function envelopeFor(from: LocalDevice, to: LocalDevice, content: ContentInit, o: { guid?: string; serverTimestamp?: number } = {}): Promise<ReceivedEnvelope> {
  const ad = from.ctx.adapters();
  const address = to.address();
  const local = from.address();
  if (!from.store.getSession(address.toString())) await processPreKeyBundle(to.bundle(), address, local, ad.sessions, ad.identity);
  const msg = await signalEncrypt(encodeContent(content), address, local, ad.sessions, ad.identity);
  return {
    guid: o.guid ?? randomUUID(),
    type: msg.type(),
    sourceAccount: from.account.accountId,
    sourceDevice: from.account.deviceId,
    serverTimestamp: o.serverTimestamp ?? Date.now(),
    content: msg.serialize(),
  };
}

/** A text message as Content. */
export function textContent(text: string, sender: LocalDevice, timestamp = Date.now()): ContentInit {
  return { body: { case: 'data', value: { text, timestamp: BigInt(timestamp), senderUsername: sender.account.username } } };
}
