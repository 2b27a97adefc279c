import type { MultiSendRequest, SendRequest } from '@kluis/protocol';
import type { AccountState } from './account.js';
import type { KeyedMutex } from './mutex.js';
import type { KeyManager } from './prekeys.js';
import type { AccountSlot } from './services/account-slot.js';
import type { BackgroundTasks } from './services/background-tasks.js';
import type { ClientEmitter } from './services/client-emitter.js';
import type { OwnDevices } from './services/own-devices.js';
import type { Adapters } from './store/adapters.js';
import type { ConversationStore } from './store/conversation-store.js';
import type { DataStore } from './store/data-store.js';
import type { ProtocolStore, Zone } from './store/protocol-store.js';
import type { HttpApi, RawResponse } from './transport/http.js';
import type { Transport } from './transport/transport.js';
import type { ClientEvents } from './types.js';

/**
 * The services the send and receive pipelines share, built once per client by
 * createClient (client/create-client.ts). Nothing here is the public Client: a pipeline
 * never calls back up into the facade. The function members are short forms of the
 * services above them, kept because every pipeline uses them.
 */
export interface Ctx {
  readonly store: ProtocolStore;
  readonly data: DataStore;
  readonly conv: ConversationStore;
  readonly keys: KeyManager;
  /** Serializes every libsignal operation per remote account id. */
  readonly locks: KeyedMutex;
  readonly account: AccountSlot;
  readonly transport: Transport;
  readonly events: ClientEmitter;
  readonly tasks: BackgroundTasks;
  readonly ownDeviceList: OwnDevices;
  now(): number;
  /** account.me(): the account, or NotRegisteredError. */
  me(): AccountState;
  /** transport.api() */
  api(): HttpApi;
  /** libsignal's store interfaces over our store, for this account (optionally inside a zone). */
  adapters(zone?: Zone): Adapters;
  /** transport.send(): over the socket when it is open, else over HTTP. */
  transmit(accountId: string, req: SendRequest): Promise<RawResponse>;
  /** transport.sendMulti() */
  transmitMulti(req: MultiSendRequest): Promise<RawResponse>;
  /** events.safeEmit() */
  emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void;
  /** tasks.run(): close() waits for it; failures are reported as 'error'. */
  background(what: string, task: () => Promise<unknown>): void;
  ownDevices(): number[];
  setOwnDevices(ids: number[]): void;
  /** A PreKey message of ours was decrypted (it may have used a one-time key): top the server's stock back up. */
  preKeyUsed?(): void;
}
