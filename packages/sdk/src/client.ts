import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PublicKey } from '@signalapp/libsignal-client';
import { normalizeUsername, PRIMARY_DEVICE_ID, type DeviceListResponse, type MultiSendRequest, type SendRequest, type SubscriptionInfo } from '@kluis/protocol';
import { loadAccount, saveAccount, type AccountState } from './account.js';
import { Conversations, type FileInput } from './conversations/conversations.js';
import { SealedSender } from './sealed/sealed-sender.js';
import type { Settings } from './conversations/messenger.js';
import type { Ctx } from './context.js';
import { openDeviceName } from './device-name.js';
import { TypedEmitter } from './emitter.js';
import { AlreadyRegisteredError, IdentityChangedError, KluisError, NetworkError, NotRegisteredError, ServerError } from './errors.js';
import { KeyedMutex } from './mutex.js';
import { approveLink, createLinkCode, link, type LinkHost } from './linking.js';
import { KeyManager } from './prekeys.js';
import { asError, Receiver } from './receiver.js';
import { register, reregister } from './registration.js';
import { safetyNumber } from './safety-number.js';
import { Sender } from './sender.js';
import { Adapters } from './store/adapters.js';
import { ConversationStore } from './store/conversation-store.js';
import { DataStore } from './store/data-store.js';
import { ensureProfileDir, openDatabase, type Db } from './store/db.js';
import { ProtocolStore, type Zone } from './store/protocol-store.js';
import { HttpApi, type RawResponse } from './transport/http.js';
import { subscriptionWarning } from './subscription.js';
import { DeviceSocket, socketUrl } from './transport/socket.js';
import { failoverFetch, fetchNodeList, ServerList } from './transport/server-list.js';
import type { PublicNode } from '@kluis/protocol';
import type { ClientDiagnostics, ClientEvents, ConversationInfo, DeviceInfo, GroupInfo, OpenOptions, StoredMessage } from './types.js';

/** Longest text accepted by send(): leaves room for padding, encryption and base64 within the 96 KiB limit. */
export const MAX_TEXT_BYTES = 64 * 1024;
/** How long after a one-time prekey was used the client tops the server's stock back up. */
const PREKEY_TOP_UP_DELAY_MS = 1000;

/**
 * A kluis client: one profile directory (one SQLCipher database), one account device.
 * Several clients can live in one process; nothing is shared between them.
 */
export class Client extends TypedEmitter<ClientEvents> {
  private state: AccountState | undefined;
  private http: HttpApi | undefined;
  /** Cluster mode: the nodes this client may use, preferred first (transport/server-list.ts). */
  private servers: ServerList | undefined;
  private socket: DeviceSocket | undefined;
  private closed = false;
  private lastTimestamp = 0;
  private maintaining: Promise<void> | undefined;
  /** A key was used while a maintenance run was under way: its count may predate that, so run again. */
  private maintainAgain = false;
  private topUpTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly store: ProtocolStore;
  private readonly data: DataStore;
  private readonly conv: ConversationStore;
  private readonly convo: Conversations;
  private readonly sealed: SealedSender;
  private readonly keys: KeyManager;
  private readonly locks = new KeyedMutex();
  private readonly sender: Sender;
  private readonly receiver: Receiver;
  private readonly ctx: Ctx;
  private readonly enrolment: LinkHost;
  private readonly now: () => number;

  private constructor(
    private readonly db: Db,
    readonly profileDir: string,
    private readonly opts: OpenOptions,
  ) {
    super();
    this.now = opts.clock ?? Date.now;
    this.store = new ProtocolStore(db, this.now);
    this.data = new DataStore(db, this.now);
    this.conv = new ConversationStore(db, this.now);
    this.keys = new KeyManager(this.store, this.data, this.now);
    this.state = loadAccount(this.data);
    const self = this;
    this.ctx = {
      store: this.store,
      data: this.data,
      conv: this.conv,
      keys: this.keys,
      locks: this.locks,
      now: this.now,
      me: () => this.requireAccount(),
      api: () => this.api(),
      adapters: (zone?: Zone) => this.adapters(zone),
      transmit: (accountId, req) => this.transmit(accountId, req),
      transmitMulti: (req) => this.transmitMulti(req),
      emit: (event, ...args) => self.safeEmit(event, ...args),
      background: (what, task) => this.background(what, task),
      ownDevices: () => this.data.get<number[]>('ownDevices') ?? (this.state ? [this.state.deviceId] : []),
      setOwnDevices: (ids) => this.data.set('ownDevices', [...new Set(ids)].sort((a, b) => a - b)),
      preKeyUsed: () => this.scheduleTopUp(),
    };
    this.enrolment = {
      ctx: this.ctx,
      adopt: (account, ownDevices) =>
        this.store.transaction(() => {
          saveAccount(this.data, account);
          this.state = account;
          this.http = undefined;
          this.servers = undefined;
          this.ctx.setOwnDevices(ownDevices);
        }),
      assertOpen: () => this.assertOpen(),
      pollIntervalMs: () => this.opts.pollIntervalMs,
      refreshOwnDevices: () => this.refreshOwnDevices(),
    };
    this.sender = new Sender(this.ctx);
    this.sealed = new SealedSender(this.ctx, () => this.convo.messenger.profileKey());
    // Sealed whenever we hold the recipient's access key; any trouble getting a certificate means identified.
    if (opts.sealedSender !== false) this.sender.sealing = this.sealed;
    this.convo = new Conversations(this.ctx, this.sender, {
      ...(opts.sealedSender === false ? {} : { sealed: this.sealed }),
      profileDir,
      ...(opts.gapWindowMs !== undefined ? { gapWindowMs: opts.gapWindowMs } : {}),
      ...(opts.autoDownloadBytes !== undefined ? { autoDownloadBytes: opts.autoDownloadBytes } : {}),
      resolveUsername: (u) => this.resolveUsername(u),
      nextTimestamp: () => this.nextTimestamp(),
    });
    this.receiver = new Receiver(this.ctx, this.sender, opts.hooks ?? {}, (guid) => this.socket?.ack(guid), this.convo.applier, this.sealed);
  }

  /** Opens (or creates) the profile at profileDir/kluis.db. A wrong passphrase throws WrongPassphraseError. */
  static async open(opts: OpenOptions): Promise<Client> {
    ensureProfileDir(opts.profileDir);
    const db = openDatabase(join(opts.profileDir, 'kluis.db'), opts.passphrase);
    return new Client(db, opts.profileDir, opts);
  }

  get isRegistered(): boolean {
    return this.state !== undefined;
  }

  get account(): { accountId: string; username: string; deviceId: number; serverUrl: string } | undefined {
    const s = this.state;
    return s && { accountId: s.accountId, username: s.username, deviceId: s.deviceId, serverUrl: s.serverUrl };
  }

  get isConnected(): boolean {
    return this.socket?.isOpen ?? false;
  }

  /** A snapshot of what is in progress (locks, requests, backlog): for logs when something hangs. */
  diagnostics(): ClientDiagnostics {
    return {
      connected: this.isConnected,
      locks: this.locks.held(),
      http: this.http?.pending() ?? [],
      socketRequests: this.socket?.pendingRequests ?? 0,
      receiveBacklog: this.receiver.backlog,
    };
  }

  // ---------------------------------------------------------------- registration

  /** Redeems an invite and registers this profile as the account's primary device (1). */
  async register(o: { serverUrl: string; inviteCode: string; username: string; deviceName?: string; trustRoot?: string }): Promise<void> {
    this.requireUnregistered();
    await register(this.enrolment, o);
    // Pin the trust root now: the operator's copy if given, else the server's (first use).
    if (o.trustRoot) this.sealed.pinTrustRoot(o.trustRoot);
    // Best effort: a server without sealed sender leaves every send identified; connect() retries.
    await this.sealed
      .trustRoot()
      .then(() => this.sealed.publishAccessKey())
      .catch(() => undefined);
  }

  /**
   * Primary only: a reinstall with a fresh identity key pair, registration id, password and keys.
   * The server removes every linked device; contacts see a changed safety number.
   */
  async reregister(): Promise<void> {
    const me = this.requireAccount();
    if (me.deviceId !== PRIMARY_DEVICE_ID) throw new KluisError('NOT_PRIMARY', 'only the primary device can re-register');
    const wasConnected = this.socket?.isRunning ?? false;
    await this.stopSocket();
    await reregister(this.enrolment, me);
    // Certificates name the identity key: the cached one is for the old key.
    this.sealed.forgetCertificate();
    if (wasConnected) await this.connect();
  }

  // ---------------------------------------------------------------- linking

  /** Primary: a short-lived code for a new device. */
  async createLinkCode(): Promise<{ code: string; expiresAt: number }> {
    return createLinkCode(this.enrolment);
  }

  /**
   * Primary: waits for the new device's request, shows its verification number to `confirm`,
   * and, if confirmed, seals the account secrets to the new device's one-time key.
   */
  async approveLink(
    code: string,
    o: { confirm: (verification: string) => boolean | Promise<boolean>; timeoutMs?: number },
  ): Promise<{ deviceId: number }> {
    const profileKey = this.convo.messenger.profileKey();
    const r = await approveLink(this.enrolment, code, { ...o, ...(profileKey ? { profileKey } : {}) });
    // The new device learns our settings and groups from us (and the profile key again).
    this.background('sync to new device', async () => {
      await this.refreshOwnDevices();
      await this.convo.messenger.syncEverything();
    });
    return r;
  }

  /** New device: requests a link with `code`, waits for the primary, and becomes a linked device. */
  async link(o: {
    serverUrl: string;
    code: string;
    deviceName?: string;
    onVerification?: (verification: string) => void;
    timeoutMs?: number;
  }): Promise<void> {
    this.requireUnregistered();
    await link(this.enrolment, o);
  }

  // ---------------------------------------------------------------- connection

  /** Opens the socket (resolves once connected); the backlog then arrives as 'message' events. */
  async connect(): Promise<void> {
    this.assertOpen();
    const me = this.requireAccount();
    if (this.socket?.isRunning) return;
    const socket = new DeviceSocket(
      {
        url: () => socketUrl(this.serverList().pick()),
        authorization: () => this.api().authorization(),
        pingIntervalMs: this.opts.pingIntervalMs,
        onUrlFailed: (url) => this.serverList().failed(url),
        onUrlOpened: (url) => this.serverList().succeeded(url),
        startAttempts: () => Math.min(this.serverList().size, 4),
      },
      {
        onEnvelope: (env) => this.receiver.enqueue(env),
        onQueueEmpty: () =>
          this.receiver.after(() => {
            this.safeEmit('queue-empty');
            this.background('key maintenance', () => this.maintainKeys());
          }),
        onState: (state) => {
          this.safeEmit('connection', { state });
          if (state === 'connected') {
            if (this.opts.bootstrap !== false) this.background('node list', () => this.refreshNodes());
            this.background('device list', () => this.refreshOwnDevices());
            this.background('subscription', () => this.checkSubscription());
            this.background('sealed sender', () =>
              this.sealed.publishAccessKey().catch((e: unknown) => {
                // A server without sealed sender (404): every send stays identified.
                if (!(e instanceof ServerError && e.status === 404)) throw e;
              }),
            );
            this.receiver.flushResendRequests();
          }
        },
        onError: (e) => this.safeEmit('error', e),
      },
    );
    this.socket = socket;
    this.convo.start();
    await socket.start();
  }

  /** Closes the socket (if any), waits for in-flight work and closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Finish (and ack) what is being processed, then close the socket.
    this.socket?.pause();
    await this.receiver.idle();
    this.convo.stop();
    await this.stopSocket();
    // A pending top-up waits for the next connect (which tops up anyway).
    clearTimeout(this.topUpTimer);
    this.topUpTimer = undefined;
    while (this.tasks.size > 0) await Promise.allSettled([...this.tasks]);
    this.closed = true;
    this.db.close();
  }

  // ---------------------------------------------------------------- subscription

  /** Paid-until, state (active, grace, suspended), brand look and member-invite quota. */
  async subscription(): Promise<SubscriptionInfo> {
    this.requireAccount();
    return this.api().subscription();
  }

  /** Redeems a renewal code; sending works again at once if the account was in grace. */
  async renew(code: string): Promise<SubscriptionInfo> {
    this.requireAccount();
    const info = await this.api().renew(code);
    return info;
  }

  /** A member invite within the brand's quota; nothing links it to this account once redeemed. */
  async createInvite(): Promise<{ code: string; remaining: number }> {
    this.requireAccount();
    return this.api().createMemberInvite();
  }

  /** Best effort: a server without subscriptions (or a failed request) means no warning, not an error. */
  private async checkSubscription(): Promise<void> {
    const info = await this.api()
      .subscription()
      .catch(() => undefined);
    if (!info) return;
    const warning = subscriptionWarning(info, (this.opts.clock ?? Date.now)());
    if (warning) this.safeEmit('subscription-expiring', warning);
  }

  // ---------------------------------------------------------------- messaging

  /**
   * Sends text and/or files to a conversation: a username, or a group's conversation id
   * ("g:…"). The message is stored locally with the first encryption; `replyTo` quotes a
   * stored message. Our other devices get a copy.
   */
  async send(conversation: string, text?: string, o: { replyTo?: string; files?: FileInput[] } = {}): Promise<StoredMessage> {
    this.requireAccount();
    if (text !== undefined && Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES)
      throw new KluisError('TOO_LARGE', `message text is over ${MAX_TEXT_BYTES} bytes`);
    return this.convo.send(conversation, text, o);
  }

  /** Local history, oldest first (the last `limit`, default 1000): a username or group conversation id. */
  async messages(o: { conversation?: string; limit?: number } = {}): Promise<StoredMessage[]> {
    this.assertOpen();
    return this.convo.messages(o);
  }

  /** One stored message by id (undefined if unknown or deleted locally). */
  async message(id: string): Promise<StoredMessage | undefined> {
    this.assertOpen();
    return this.convo.message(id);
  }

  /** Full-text search over local history (newest `limit` matches, oldest first). */
  async search(text: string, o: { conversation?: string; limit?: number } = {}): Promise<StoredMessage[]> {
    this.assertOpen();
    return this.convo.search(text, o);
  }

  /** Earlier versions of an edited message, oldest first. */
  async messageHistory(messageId: string): Promise<Array<{ editedAt: number; text: string }>> {
    this.assertOpen();
    return this.convo.history(messageId);
  }

  async conversations(): Promise<ConversationInfo[]> {
    this.requireAccount();
    return this.convo.list();
  }

  /** One reaction per person per message: a new one replaces ours; `remove` takes it back. */
  async react(messageId: string, emoji: string, o: { remove?: boolean } = {}): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.react(messageId, emoji, o.remove ?? false);
  }

  /** Our own messages, within 24 hours; receivers keep the earlier text as history. */
  async edit(messageId: string, text: string): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.edit(messageId, text);
  }

  /** Removes text and files of our own message on every recipient's devices (within 24 hours). */
  async deleteForEveryone(messageId: string): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.deleteForEveryone(messageId);
  }

  async deleteForMe(messageId: string): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.deleteForMe(messageId);
  }

  /** Marks everything in a conversation read: read receipts (unless turned off), timers start. */
  async markRead(conversation: string): Promise<number> {
    this.requireAccount();
    return this.convo.messenger.markRead(this.convo.conversationKey(conversation));
  }

  async typing(conversation: string, started = true): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.typing(conversation, started);
  }

  /** Disappearing messages: 0 (off) or 30 s to 4 weeks, for everyone in the conversation. */
  async setTimer(conversation: string, seconds: number): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.setTimer(conversation, seconds);
  }

  /** Copies attachment `index` of a message to `destPath` (fetching and verifying it first). */
  async saveAttachment(messageId: string, index: number, destPath: string): Promise<void> {
    this.requireAccount();
    await this.convo.attachments.saveTo(messageId, index, destPath);
  }

  // ---------------------------------------------------------------- groups

  /** Creates a group (we are its admin), optionally with a picture; returns its conversation id. */
  async createGroup(title: string, members: string[], o: { avatar?: FileInput } = {}): Promise<string> {
    this.requireAccount();
    const avatar = o.avatar ? await this.convo.attachments.upload(o.avatar) : undefined;
    return this.convo.messenger.createGroup(title, members, avatar);
  }

  /** Admins: a new group picture (an image file), or none. */
  async setGroupAvatar(conversation: string, avatar: FileInput | undefined): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.setGroupAvatar(conversation, avatar ? await this.convo.attachments.upload(avatar) : undefined);
  }

  /** Saves the group's picture to `destPath`; false when the group has none. */
  async saveGroupAvatar(conversation: string, destPath: string): Promise<boolean> {
    this.requireAccount();
    const pointer = this.convo.book.state(this.convo.findGroup(conversation)?.id ?? '')?.avatar;
    if (!pointer) return false;
    await this.convo.attachments.savePointer(pointer, destPath);
    return true;
  }

  async groups(): Promise<GroupInfo[]> {
    this.requireAccount();
    return this.convo.book.list();
  }

  /** A group by conversation id, hex id or exact title. */
  async group(nameOrId: string): Promise<GroupInfo | undefined> {
    this.requireAccount();
    return this.convo.findGroup(nameOrId);
  }

  async addMembers(conversation: string, usernames: string[]): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.addMembers(conversation, usernames);
  }

  async removeMembers(conversation: string, usernames: string[]): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.removeMembers(conversation, usernames);
  }

  async promote(conversation: string, username: string): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.promote(conversation, username);
  }

  async renameGroup(conversation: string, title: string): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.renameGroup(conversation, title);
  }

  async leaveGroup(conversation: string): Promise<void> {
    this.requireAccount();
    await this.convo.messenger.leaveGroup(conversation);
  }

  // ---------------------------------------------------------------- profile and settings

  /** Our display name and avatar, encrypted with our profile key (the server stores ciphertext). */
  async setProfile(p: { name: string; avatar?: Uint8Array<ArrayBuffer> }): Promise<void> {
    this.requireAccount();
    await this.convo.setProfile(p);
  }

  /** A contact's profile (name, avatar) if they shared their profile key with us. */
  async profile(username: string, o: { refresh?: boolean } = {}): Promise<{ name?: string; avatar?: Uint8Array } | undefined> {
    this.requireAccount();
    return this.convo.profile(username, o);
  }

  /** Our own profile as last set on this device (undefined if never set here). */
  async ownProfile(): Promise<{ name: string; avatar?: Uint8Array } | undefined> {
    this.requireAccount();
    return this.convo.ownProfile();
  }

  async block(username: string): Promise<void> {
    this.requireAccount();
    await this.convo.block(username);
  }

  async unblock(username: string): Promise<void> {
    this.requireAccount();
    await this.convo.unblock(username);
  }

  async settings(): Promise<Settings & { sealedFromAnyone: boolean }> {
    this.assertOpen();
    return { ...this.convo.settings(), sealedFromAnyone: this.sealed.unrestricted() };
  }

  /** `sealedFromAnyone`: accept sealed messages from people who do not have our profile key yet. */
  async setSettings(patch: Partial<Settings> & { sealedFromAnyone?: boolean }): Promise<Settings & { sealedFromAnyone: boolean }> {
    this.requireAccount();
    const { sealedFromAnyone, ...rest } = patch;
    if (sealedFromAnyone !== undefined) await this.sealed.setUnrestricted(sealedFromAnyone);
    return { ...(await this.convo.messenger.setSettings(rest)), sealedFromAnyone: this.sealed.unrestricted() };
  }

  // ---------------------------------------------------------------- identity

  /** The 60-digit safety number with `username`, computed with the identity key we trust. */
  async safetyNumber(username: string): Promise<string> {
    const me = this.requireAccount();
    const peer = await this.resolveUsername(username);
    let row = this.store.getIdentity(peer.accountId);
    if (!row) {
      // Never talked: build sessions now (the key is trusted on first use, as a first send would).
      await this.locks.run(peer.accountId, () => this.sender.establishSessions(peer.accountId));
      row = this.store.getIdentity(peer.accountId);
      if (!row) throw new KluisError('NO_IDENTITY', `no identity key known for ${peer.username}`);
    }
    return safetyNumber(me.accountId, me.identityKeyPair.publicKey, peer.accountId, PublicKey.deserialize(row.publicKey));
  }

  /** Accepts the changed identity key of `username`: sending is unblocked, old sessions are dropped. */
  async trust(username: string): Promise<void> {
    this.requireAccount();
    const peer = await this.resolveUsername(username);
    await this.locks.run(peer.accountId, () => {
      const row = this.store.getIdentity(peer.accountId);
      if (!row || row.status !== 'changed-pending' || !row.pendingKey) return;
      this.store.transaction(() => {
        this.store.putIdentity({
          ...row,
          publicKey: row.pendingKey!,
          pendingKey: null,
          status: 'trusted',
          verified: false,
          updatedAt: this.now(),
        });
        this.store.deleteSessionsForAccount(peer.accountId);
      });
    });
  }

  // ---------------------------------------------------------------- devices

  async devices(): Promise<DeviceInfo[]> {
    const me = this.requireAccount();
    const devices = await this.refreshOwnDevices();
    return devices.map((d) => {
      const info: DeviceInfo = { deviceId: d.deviceId, createdAt: d.createdAt, current: d.deviceId === me.deviceId };
      if (d.lastSeenDay !== undefined) info.lastSeenDay = d.lastSeenDay;
      const name = d.name ? openDeviceName(me.identityKeyPair.privateKey, d.name) : undefined;
      if (name !== undefined) info.name = name;
      return info;
    });
  }

  async removeDevice(deviceId: number): Promise<void> {
    const me = this.requireAccount();
    await this.api().removeDevice(deviceId);
    this.ctx.setOwnDevices(this.ctx.ownDevices().filter((d) => d !== deviceId));
    await this.locks.run(me.accountId, () => this.store.deleteSession(`${me.accountId}.${deviceId}`));
  }

  // ---------------------------------------------------------------- internals

  private assertOpen(): void {
    if (this.closed) throw new KluisError('CLOSED', 'this client was closed');
  }

  private requireAccount(): AccountState {
    this.assertOpen();
    if (!this.state) throw new NotRegisteredError();
    return this.state;
  }

  private requireUnregistered(): void {
    this.assertOpen();
    if (this.state) throw new AlreadyRegisteredError();
  }

  private api(): HttpApi {
    const me = this.requireAccount();
    this.http ??= new HttpApi(
      me.serverUrl,
      () => (this.state ? { accountId: this.state.accountId, deviceId: this.state.deviceId, password: this.state.password } : undefined),
      // Requests go to the list's current node and fail over to the next when it is unreachable.
      { fetch: failoverFetch(this.serverList()) },
    );
    return this.http;
  }

  /** The account's home URL, the app's extra URLs and the nodes last learned from the server. */
  private serverList(): ServerList {
    const me = this.requireAccount();
    this.servers ??= new ServerList({
      home: me.serverUrl,
      extra: this.opts.serverUrls,
      known: this.data.get<PublicNode[]>('serverNodes') ?? [],
      region: this.opts.region,
    });
    return this.servers;
  }

  /** Best effort: a server without GET /v1/nodes (or unreachable) leaves the list as it is. */
  private async refreshNodes(): Promise<void> {
    const list = this.serverList();
    const nodes = await fetchNodeList(list.pick());
    if (!nodes || this.closed) return;
    list.update(nodes);
    this.data.set('serverNodes', nodes);
  }

  private adapters(zone?: Zone): Adapters {
    const me = this.requireAccount();
    return new Adapters(this.store, { identityKeyPair: me.identityKeyPair, registrationId: me.registrationId }, zone, this.now);
  }

  private async transmit(accountId: string, req: SendRequest): Promise<RawResponse> {
    if (this.socket?.isOpen) {
      try {
        return await this.socket.request(accountId, req);
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        // The socket dropped mid-request: retry over HTTP (receivers dedupe by timestamp).
      }
    }
    return this.api().sendMessage(accountId, req);
  }

  private async transmitMulti(req: MultiSendRequest): Promise<RawResponse> {
    if (this.socket?.isOpen) {
      try {
        return await this.socket.requestMulti(req);
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        // Dropped mid-request, or too large for a frame: HTTP (receivers dedupe by timestamp).
      }
    }
    return this.api().sendMulti(req);
  }

  private async stopSocket(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await s.stop();
  }

  private async resolveUsername(username: string): Promise<{ accountId: string; username: string }> {
    const u = normalizeUsername(username);
    const me = this.requireAccount();
    if (u === me.username) return { accountId: me.accountId, username: me.username };
    const cached = this.data.accountIdOf(u);
    if (cached) return { accountId: cached, username: u };
    const r = await this.api().lookupUsername(u);
    this.data.putContact(r.accountId, r.username);
    return { accountId: r.accountId, username: r.username };
  }

  private nextTimestamp(): number {
    const t = Math.max(this.now(), this.lastTimestamp + 1);
    this.lastTimestamp = t;
    return t;
  }

  private async refreshOwnDevices(): Promise<DeviceListResponse['devices']> {
    const res = await this.api().listDevices();
    this.ctx.setOwnDevices(res.devices.map((d) => d.deviceId));
    return res.devices;
  }

  /**
   * A one-time prekey was used: top up soon. First contacts come in bursts (joining a group),
   * so one upload serves the burst rather than one each (uploads are rate-limited per device).
   */
  private scheduleTopUp(): void {
    if (this.topUpTimer !== undefined || this.closed) return;
    this.topUpTimer = setTimeout(() => {
      this.topUpTimer = undefined;
      this.background('key maintenance', () => this.maintainKeys());
    }, PREKEY_TOP_UP_DELAY_MS);
    this.topUpTimer.unref?.();
  }

  /** Tops one-time prekeys back up to the target and rotates signed / last-resort keys. */
  private maintainKeys(): Promise<void> {
    if (this.maintaining) {
      this.maintainAgain = true;
      return this.maintaining;
    }
    const run = async () => {
      const me = this.requireAccount();
      const counts = await this.api().keyCount();
      const plan = this.keys.planMaintenance(me.identityKeyPair, counts);
      if (plan) {
        await this.api().uploadKeys(plan.request);
        plan.accepted();
      }
      this.keys.pruneReplaced();
      this.data.prune();
    };
    const p = run().finally(() => {
      if (this.maintaining === p) this.maintaining = undefined;
      if (this.maintainAgain) {
        this.maintainAgain = false;
        this.background('key maintenance', () => this.maintainKeys());
      }
    });
    this.maintaining = p;
    return p;
  }

  private background(what: string, task: () => Promise<unknown>): void {
    if (this.closed) return;
    const p = task()
      .catch((e: unknown) => {
        if (this.closed) return;
        const err = asError(e);
        if (!(err instanceof KluisError)) err.message = `${what}: ${err.message}`;
        this.safeEmit('error', err);
      })
      .finally(() => this.tasks.delete(p));
    this.tasks.add(p);
  }

  /** 'error' without a listener would throw from EventEmitter; background errors must not crash the host. */
  private safeEmit<K extends keyof ClientEvents>(event: K, ...args: ClientEvents[K]): void {
    if (event === 'error' && this.listenerCount('error') === 0) return;
    try {
      (this.emit as (e: K, ...a: ClientEvents[K]) => boolean)(event, ...args);
    } catch (e) {
      if (event !== 'error' && this.listenerCount('error') > 0) this.emit('error', asError(e));
    }
  }

  /** For tests: the stores behind this client. */
  get _internals(): {
    store: ProtocolStore;
    data: DataStore;
    conv: ConversationStore;
    convo: Conversations;
    receiver: Receiver;
    sender: Sender;
    adapters: () => Adapters;
    api: () => HttpApi;
  } {
    return {
      store: this.store,
      data: this.data,
      conv: this.conv,
      convo: this.convo,
      receiver: this.receiver,
      sender: this.sender,
      adapters: () => this.adapters(),
      api: () => this.api(),
    };
  }
}
