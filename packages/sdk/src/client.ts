import { PRIMARY_DEVICE_ID } from '@kluis/protocol';
import { SettingsApi, SubscriptionApi } from './client/account-api.js';
import { CallsApi } from './client/calls-api.js';
import { close, connect } from './client/connection.js';
import { ContactsApi, ProfileApi } from './client/contacts-api.js';
import { ConversationsApi } from './client/conversations-api.js';
import { openServices, type ClientServices } from './client/create-client.js';
import { DevicesApi } from './client/devices-api.js';
import { GroupsApi } from './client/groups-api.js';
import { IdentityApi, importLegacyVerifiedMarks } from './client/identity-api.js';
import { MessagesApi } from './client/messages-api.js';
import { SERVICES } from './client/services-key.js';
import type { SendInput } from './conversations/conversations.js';
import { KluisError } from './errors.js';
import { link } from './linking.js';
import { register, reregister } from './registration.js';
import type { ClientDiagnostics, ClientEvents, OpenOptions, StoredMessage } from './types.js';

/** Longest text accepted by send(): leaves room for padding, encryption and base64 within the 96 KiB limit. */
export const MAX_TEXT_BYTES = 64 * 1024;

type Listener<K extends keyof ClientEvents> = (...args: ClientEvents[K]) => void;

/**
 * A kluis client: one profile directory (one SQLCipher database), one account device.
 * Several clients can live in one process; nothing is shared between them.
 *
 * The facade only: its services are built by createClient (client/create-client.ts); what
 * the client can do is grouped in sub-APIs (`messages`, `conversations`, `groups`,
 * `devices`, `identity`, `contacts`, `profile`, `settings`, `subscription`, `calls`).
 */
export class Client {
  readonly messages: MessagesApi;
  readonly conversations: ConversationsApi;
  readonly groups: GroupsApi;
  readonly devices: DevicesApi;
  readonly identity: IdentityApi;
  readonly contacts: ContactsApi;
  readonly profile: ProfileApi;
  readonly settings: SettingsApi;
  readonly subscription: SubscriptionApi;
  readonly calls: CallsApi;
  /** For the SDK's own tests (testing/services.ts); not part of the public interface. */
  readonly [SERVICES]: ClientServices;

  private constructor(private readonly s: ClientServices) {
    this[SERVICES] = s;
    this.messages = new MessagesApi(s);
    this.conversations = new ConversationsApi(s);
    this.groups = new GroupsApi(s);
    this.devices = new DevicesApi(s);
    this.identity = new IdentityApi(s);
    this.contacts = new ContactsApi(s);
    this.profile = new ProfileApi(s);
    this.settings = new SettingsApi(s);
    this.subscription = new SubscriptionApi(s);
    this.calls = new CallsApi(s);
    importLegacyVerifiedMarks(s);
  }

  /** Opens (or creates) the profile at profileDir/kluis.db. A wrong passphrase throws WrongPassphraseError. */
  static async open(opts: OpenOptions): Promise<Client> {
    return new Client(openServices(opts));
  }

  get profileDir(): string {
    return this.s.profileDir;
  }

  get isRegistered(): boolean {
    return this.s.account.current !== undefined;
  }

  get account(): { accountId: string; username: string; deviceId: number; serverUrl: string } | undefined {
    const a = this.s.account.current;
    return a && { accountId: a.accountId, username: a.username, deviceId: a.deviceId, serverUrl: a.serverUrl };
  }

  get isConnected(): boolean {
    return this.s.transport.isOpen;
  }

  on<K extends keyof ClientEvents>(event: K, listener: Listener<K>): this {
    this.s.events.on(event, listener as never);
    return this;
  }

  once<K extends keyof ClientEvents>(event: K, listener: Listener<K>): this {
    this.s.events.once(event, listener as never);
    return this;
  }

  off<K extends keyof ClientEvents>(event: K, listener: Listener<K>): this {
    this.s.events.off(event, listener as never);
    return this;
  }

  /** A snapshot of what is in progress (locks, requests, backlog): for logs when something hangs. */
  diagnostics(): ClientDiagnostics {
    return {
      connected: this.isConnected,
      locks: this.s.ctx.locks.held(),
      http: this.s.transport.pendingHttp(),
      socketRequests: this.s.transport.pendingRequests,
      receiveBacklog: this.s.receiver.backlog,
    };
  }

  /** Redeems an invite and registers this profile as the account's primary device (1). */
  async register(o: { serverUrl: string; inviteCode: string; username: string; deviceName?: string; trustRoot?: string }): Promise<void> {
    this.s.account.requireUnregistered();
    await register(this.s.enrolment, o);
    // Pin the trust root now: the operator's copy if given, else the server's (first use).
    if (o.trustRoot) this.s.sealed.pinTrustRoot(o.trustRoot);
    // Best effort: a server without sealed sender leaves every send identified; connect() retries.
    await this.s.sealed
      .trustRoot()
      .then(() => this.s.sealed.publishAccessKey())
      .catch(() => undefined);
  }

  /**
   * Primary only: a reinstall with a fresh identity key pair, registration id, password and keys.
   * The server removes every linked device; contacts see a changed safety number.
   */
  async reregister(): Promise<void> {
    const me = this.s.account.me();
    if (me.deviceId !== PRIMARY_DEVICE_ID) throw new KluisError('NOT_PRIMARY', 'only the primary device can re-register');
    const wasConnected = this.s.transport.isRunning;
    await this.s.transport.stop();
    await reregister(this.s.enrolment, me);
    // Certificates name the identity key: the cached one is for the old key.
    this.s.sealed.forgetCertificate();
    if (wasConnected) await this.connect();
  }

  /** New device: requests a link with `code`, waits for the primary, and becomes a linked device. */
  async link(o: { serverUrl: string; code: string; deviceName?: string; onVerification?: (verification: string) => void; timeoutMs?: number }): Promise<void> {
    this.s.account.requireUnregistered();
    await link(this.s.enrolment, o);
  }

  /** Opens the socket (resolves once connected); the backlog then arrives as 'message' events. */
  async connect(): Promise<void> {
    await connect(this.s);
  }

  /** Closes the socket (if any), waits for in-flight work and closes the database. */
  async close(): Promise<void> {
    await close(this.s);
  }

  /**
   * Sends text and/or files to a conversation: a username, or a group's conversation id
   * ("g:…"). The message is stored locally with the first encryption; `replyTo` quotes a
   * stored message. Our other devices get a copy. `id` (a lowercase UUID the caller makes
   * when its user asks to send) makes sending idempotent: the same id again — a second
   * click, a retry after an error — waits for or sends again that one message, with its
   * timestamp, so nobody is shown it twice.
   */
  async send(conversation: string, text?: string, o: SendInput = {}): Promise<StoredMessage> {
    this.s.account.me();
    if (text !== undefined && Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES)
      throw new KluisError('TOO_LARGE', `message text is over ${MAX_TEXT_BYTES} bytes`);
    return this.s.convo.send(conversation, text, o);
  }
}
