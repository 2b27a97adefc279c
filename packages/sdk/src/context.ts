import type { MultiSendRequest, SendRequest } from '@kluis/protocol';
import type { AccountState } from './account.js';
import type { KeyedMutex } from './mutex.js';
import type { KeyManager } from './prekeys.js';
import type { Adapters } from './store/adapters.js';
import type { ConversationStore } from './store/conversation-store.js';
import type { DataStore } from './store/data-store.js';
import type { ProtocolStore, Zone } from './store/protocol-store.js';
import type { HttpApi, RawResponse } from './transport/http.js';
import type { ClientEvents } from './types.js';

/** What the send and receive pipelines need from the Client (one per Client; no module state). */
export interface Ctx {
  readonly store: ProtocolStore;
  readonly data: DataStore;
  readonly conv: ConversationStore;
  readonly keys: KeyManager;
  /** Serializes every libsignal operation per remote account id. */
  readonly locks: KeyedMutex;
  now(): number;
  me(): AccountState;
  api(): HttpApi;
  adapters(zone?: Zone): Adapters;
  /** A send over the socket when it is open, else over HTTP. */
  transmit(accountId: string, req: SendRequest): Promise<RawResponse>;
  /** A multi-recipient send (PUT /v1/messages) over the socket when it is open and the frame fits, else over HTTP. */
  transmitMulti(req: MultiSendRequest): Promise<RawResponse>;
  emit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void;
  /** Tracks a background task so close() can wait for it; failures are reported as 'error'. */
  background(what: string, task: () => Promise<unknown>): void;
  ownDevices(): number[];
  setOwnDevices(ids: number[]): void;
  /** A PreKey message of ours was decrypted (it may have used a one-time key): top the server's stock back up. */
  preKeyUsed?(): void;
}
