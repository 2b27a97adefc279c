import { randomUUID } from 'node:crypto';
import { join } from 'node:path';
import { PublicKey } from '@signalapp/libsignal-client';
import { normalizeUsername, PRIMARY_DEVICE_ID, type DeviceListResponse, type SendRequest, type SubscriptionInfo } from '@kluis/protocol';
import { loadAccount, saveAccount, type AccountState } from './account.js';
import { encodeContent } from './content.js';
import type { Ctx } from './context.js';
import { openDeviceName } from './device-name.js';
import { TypedEmitter } from './emitter.js';
import { AlreadyRegisteredError, IdentityChangedError, KluisError, NetworkError, NotRegisteredError } from './errors.js';
import { KeyedMutex } from './mutex.js';
import { approveLink, createLinkCode, link, type LinkHost } from './linking.js';
import { KeyManager } from './prekeys.js';
import { asError, Receiver, toStored } from './receiver.js';
import { register, reregister } from './registration.js';
import { safetyNumber } from './safety-number.js';
import { Sender } from './sender.js';
import { Adapters } from './store/adapters.js';
import { DataStore } from './store/data-store.js';
import { ensureProfileDir, openDatabase, type Db } from './store/db.js';
import { ProtocolStore, type Zone } from './store/protocol-store.js';
import { HttpApi, type RawResponse } from './transport/http.js';
import { subscriptionWarning } from './subscription.js';
import { DeviceSocket, socketUrl } from './transport/socket.js';
import type { ClientEvents, DeviceInfo, OpenOptions, StoredMessage } from './types.js';

/** Longest text accepted by send(): leaves room for padding, encryption and base64 within the 96 KiB limit. */
export const MAX_TEXT_BYTES = 64 * 1024;

/**
 * A kluis client: one profile directory (one SQLCipher database), one account device.
 * Several clients can live in one process; nothing is shared between them.
 */
export class Client extends TypedEmitter<ClientEvents> {
  private state: AccountState | undefined;
  private http: HttpApi | undefined;
  private socket: DeviceSocket | undefined;
  private closed = false;
  private lastTimestamp = 0;
  private maintaining: Promise<void> | undefined;
  private readonly tasks = new Set<Promise<unknown>>();
  private readonly store: ProtocolStore;
  private readonly data: DataStore;
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
    this.keys = new KeyManager(this.store, this.data, this.now);
    this.state = loadAccount(this.data);
    const self = this;
    this.ctx = {
      store: this.store,
      data: this.data,
      keys: this.keys,
      locks: this.locks,
      now: this.now,
      me: () => this.requireAccount(),
      api: () => this.api(),
      adapters: (zone?: Zone) => this.adapters(zone),
      transmit: (accountId, req) => this.transmit(accountId, req),
      emit: (event, ...args) => self.safeEmit(event, ...args),
      background: (what, task) => this.background(what, task),
      ownDevices: () => this.data.get<number[]>('ownDevices') ?? (this.state ? [this.state.deviceId] : []),
      setOwnDevices: (ids) => this.data.set('ownDevices', [...new Set(ids)].sort((a, b) => a - b)),
    };
    this.enrolment = {
      ctx: this.ctx,
      adopt: (account, ownDevices) =>
        this.store.transaction(() => {
          saveAccount(this.data, account);
          this.state = account;
          this.http = undefined;
          this.ctx.setOwnDevices(ownDevices);
        }),
      assertOpen: () => this.assertOpen(),
      pollIntervalMs: () => this.opts.pollIntervalMs,
      refreshOwnDevices: () => this.refreshOwnDevices(),
    };
    this.sender = new Sender(this.ctx);
    this.receiver = new Receiver(this.ctx, this.sender, opts.hooks ?? {}, (guid) => this.socket?.ack(guid));
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

  // ---------------------------------------------------------------- registration

  /** Redeems an invite and registers this profile as the account's primary device (1). */
  async register(o: { serverUrl: string; inviteCode: string; username: string; deviceName?: string }): Promise<void> {
    this.requireUnregistered();
    await register(this.enrolment, o);
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
    return approveLink(this.enrolment, code, o);
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
        url: () => socketUrl(me.serverUrl),
        authorization: () => this.api().authorization(),
        pingIntervalMs: this.opts.pingIntervalMs,
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
            this.background('device list', () => this.refreshOwnDevices());
            this.background('subscription', () => this.checkSubscription());
            this.receiver.flushResendRequests();
          }
        },
        onError: (e) => this.safeEmit('error', e),
      },
    );
    this.socket = socket;
    await socket.start();
  }

  /** Closes the socket (if any), waits for in-flight work and closes the database. */
  async close(): Promise<void> {
    if (this.closed) return;
    // Finish (and ack) what is being processed, then close the socket.
    this.socket?.pause();
    await this.receiver.idle();
    await this.stopSocket();
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

  /** Encrypts and sends `text` to every device of `username`, then a sync copy to our other devices. */
  async send(username: string, text: string): Promise<{ timestamp: number }> {
    const me = this.requireAccount();
    if (Buffer.byteLength(text, 'utf8') > MAX_TEXT_BYTES)
      throw new KluisError('TOO_LARGE', `message text is over ${MAX_TEXT_BYTES} bytes`);
    const peer = await this.resolveUsername(username);
    if (peer.accountId === me.accountId) throw new KluisError('SELF_SEND', 'sending to yourself is not supported yet');
    const identity = this.store.getIdentity(peer.accountId);
    if (identity?.status === 'changed-pending') throw new IdentityChangedError(peer.username, peer.accountId);

    const timestamp = this.nextTimestamp();
    const content = encodeContent({ kind: 'text', text, timestamp, senderUsername: me.username });
    const sync = encodeContent({
      kind: 'sync-sent',
      text,
      timestamp,
      senderUsername: me.username,
      destination: peer.username,
      destinationAccountId: peer.accountId,
    });
    const id = randomUUID();
    // Stored in the same transaction as the session state of the first encryption.
    const record = () => {
      this.data.insertMessage(
        {
          id,
          conversation: peer.username,
          peerAccountId: peer.accountId,
          direction: 'outgoing',
          senderAccountId: me.accountId,
          senderUsername: me.username,
          senderDevice: me.deviceId,
          timestamp,
          serverTimestamp: null,
          body: text,
          sync: false,
          status: 'sending',
        },
        null,
      );
      this.data.putSentContent(timestamp, peer.accountId, content);
      this.data.putSentContent(timestamp, me.accountId, sync);
    };
    let serverTimestamp: number | undefined;
    try {
      serverTimestamp = await this.sender.sendToAccount(peer.accountId, content, timestamp, {
        username: peer.username,
        withCommit: record,
      });
    } catch (e) {
      this.data.setMessageStatus(id, 'failed');
      throw e;
    }
    this.data.setMessageStatus(id, 'sent', serverTimestamp);
    await this.sender.sendToAccount(me.accountId, sync, timestamp, { username: me.username });
    return { timestamp };
  }

  /** Local history, oldest first (the last `limit`, default 1000). `conversation` = peer username. */
  async messages(o: { conversation?: string; limit?: number } = {}): Promise<StoredMessage[]> {
    this.assertOpen();
    const conversation = o.conversation === undefined ? undefined : normalizeUsername(o.conversation);
    return this.data.listMessages({ conversation, limit: o.limit }).map(toStored);
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
    this.http ??= new HttpApi(me.serverUrl, () =>
      this.state ? { accountId: this.state.accountId, deviceId: this.state.deviceId, password: this.state.password } : undefined,
    );
    return this.http;
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

  /** Refills one-time prekeys below the threshold and rotates signed / last-resort keys. */
  private maintainKeys(): Promise<void> {
    if (this.maintaining) return this.maintaining;
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
  get _internals(): { store: ProtocolStore; data: DataStore; receiver: Receiver; sender: Sender } {
    return { store: this.store, data: this.data, receiver: this.receiver, sender: this.sender };
  }
}
