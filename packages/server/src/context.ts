import { SEALED_SENDER } from './sealed/sealed-send.js';
import { SealedSenderKeys } from './sealed/sealed-sender-keys.js';
import { AccessKeyCache, recipientAccessLoader } from './sealed/access-key-cache.js';
import { accessChangePublisher } from './sealed/access-changes.js';
import { SocketCloseCode, type MultiSendResponse, type SendResponse } from '@kluis/protocol';
import { AdminAuthenticator } from './auth/admin-auth.js';
import { SocketDeviceAuthenticator } from './auth/gated-device-auth.js';
import { AuthCache } from './auth/auth-cache.js';
import { DeviceAuthenticator, type DeviceIdentity } from './auth/device-auth.js';
import { OperatorAuthenticator } from './auth/operator-auth.js';
import { createPasswordHasher, type PasswordHasher } from './auth/password-hasher.js';
import type { ResolvedServerConfig } from './config.js';
import { join } from 'node:path';
import type { BlobStore } from './blobs/blob-store.js';
import { FsBlobStore } from './blobs/fs-blob-store.js';
import { durableTransaction, type DatabaseAdapter } from './db/database.js';
import type { Db, Executor } from './db/schema.js';
import { ACCESS_CHANGES_KEY, deviceKey, type Bus } from './delivery/bus.js';
import { GroupCommitWriter } from './delivery/group-commit.js';
import { CappedSubmitter, QueueCaps } from './delivery/queue-caps.js';
import { sendMessage, type DecodedSendRequest } from './delivery/send.js';
import { sendMulti, type DecodedMultiSendRequest, type MultiSendCommand } from './delivery/multi-send.js';
import { deliverSealed } from './api/send-sealed.js';
import { deliverSealedMulti } from './api/send-sealed-multi.js';
import { queueReaderFor, type QueueReaderFactory } from './delivery/queue-reader.js';
import { SocketServer } from './delivery/socket-server.js';
import { ApiError, isStoreUnavailable, storeUnavailable } from './errors.js';
import { Metrics } from './ops/metrics.js';
import type { Logger } from './logger.js';
import { AccountStore, SubscriptionStore } from './store/accounts.js';
import { AdminTokenStore } from './store/admin-tokens.js';
import { AuditLogStore } from './store/audit-log.js';
import { PlanStore } from './store/plans.js';
import { SubscriptionGate } from './subscriptions/gate.js';
import { BrandStore } from './store/brands.js';
import { DeviceStore } from './store/devices.js';
import { envelopeStoreFor, type EnvelopeStore } from './store/envelopes.js';
import { InviteStore } from './store/invites.js';
import { LinkCodeStore } from './store/link-codes.js';
import { OperatorTokenStore } from './store/operator-tokens.js';
import { PreKeyStore } from './store/prekeys.js';
import { NodeStore, type NodeRecord } from './store/nodes.js';
import { ProfileStore } from './store/profiles.js';
import { nodeStatus, staleAfterMs, type NodeState } from './ops/node-registry.js';
import { RateLimiter } from './limits/rate-limiter.js';
import { StorageGuard } from './ops/storage-guard.js';
import { configuredRules } from './limits/configured-rules.js';

export interface Stores {
  brands: BrandStore;
  accounts: AccountStore;
  devices: DeviceStore;
  prekeys: PreKeyStore;
  invites: InviteStore;
  operatorTokens: OperatorTokenStore;
  linkCodes: LinkCodeStore;
  envelopes: EnvelopeStore;
  plans: PlanStore;
  subscriptions: SubscriptionStore;
  adminTokens: AdminTokenStore;
  auditLog: AuditLogStore;
  nodes: NodeStore;
  profiles: ProfileStore;
}

export interface Delivery {
  writer: GroupCommitWriter;
  sockets: SocketServer;
  /** The shared send path (HTTP route and socket frame). Throws ApiError. */
  send(sender: DeviceIdentity, destination: string, request: DecodedSendRequest): Promise<SendResponse>;
  /** The shared multi-recipient send (PUT /v1/messages and 'send-multi' frames). Throws ApiError. */
  sendMulti(sender: DeviceIdentity, request: DecodedMultiSendRequest): Promise<MultiSendResponse>;
  /** A sealed send (key already checked): no sender, no subscription gate. */
  sendSealed(destination: string, request: DecodedSendRequest): Promise<SendResponse>;
  /** A split multi-recipient sealed message (prepareSealedMulti). */
  sendSealedMulti(command: MultiSendCommand): Promise<MultiSendResponse>;
  /** After a device's removal committed: close its sockets everywhere (4001). */
  deviceRemoved(accountId: string, deviceId: number): void;
  /** After a re-registration committed: the old primary credentials are void (4000). */
  deviceSuperseded(accountId: string, deviceId: number): void;
  /**
   * After a suspension committed: close this node's sockets of the account (4003); the
   * reconnect is refused by the socket authenticator. Other nodes' sockets go at their
   * next reconnect (the bus has no account-wide event yet).
   */
  accountSuspended(accountId: string): void;
  /**
   * After a committed change of an account's sealed access (key, flag, deletion, purge):
   * drops it from every node's access-key cache. Resolves once every other live node
   * confirmed (at most a second: sealed/access-changes.ts); never rejects.
   */
  accessChanged(accountId: string): Promise<void>;
}

/** Everything a request handler may use, passed explicitly: no module-level state. */
export interface AppContext {
  config: ResolvedServerConfig;
  /** A transaction that is on disk when it resolves: use it for anything acknowledged to a client. */
  transaction<T>(fn: (trx: Executor) => Promise<T>): Promise<T>;
  adapter: DatabaseAdapter;
  db: Db;
  clock: () => number;
  log: Logger;
  hasher: PasswordHasher;
  stores: Stores;
  auth: { device: DeviceAuthenticator; operator: OperatorAuthenticator; admin: AdminAuthenticator };
  /** Grace / suspension checks for sends and sockets (issue 3). */
  subscriptions: SubscriptionGate;
  startedAt: number;
  bus: Bus;
  delivery: Delivery;
  /** This node's Prometheus counters (ops/metrics.ts). */
  metrics: Metrics;
  /** Encrypted attachment blobs (files under config.blobDir, metadata in `blobs`). */
  blobs: BlobStore;
  /** This node in the cluster's nodes registry (name, region, URL, draining). */
  node: NodeState;
  /** Recipients' access keys for sealed sends, in memory; changes go through delivery.accessChanged. */
  accessKeys: AccessKeyCache;
  /** Sealed sender: trust root, server certificate and key (loaded on first use). */
  sealed: () => Promise<SealedSenderKeys>;
  /** Per-node, in-memory token buckets keyed by HMACs of ids (limits/); no-ops with --rate-limits off. */
  limits: RateLimiter;
  /** Full-disk handling: the reserve file, 507 STORAGE_FULL for new sends, recovery. */
  storage: StorageGuard;
}

/** Runs `load` once; a failure is not cached (the next call tries again). */
function memo<T>(load: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => {
    p ??= load().catch((e: unknown) => {
      p = undefined;
      throw e;
    });
    return p;
  };
}

export function createAppContext(deps: {
  config: ResolvedServerConfig;
  adapter: DatabaseAdapter;
  clock: () => number;
  log: Logger;
  bus: Bus;
  /** Defaults to queueReaderFor(adapter.capabilities). */
  queueReader?: QueueReaderFactory;
}): AppContext {
  const { config, adapter, clock, log, bus } = deps;
  const db = adapter.db;
  const stores: Stores = {
    brands: new BrandStore(),
    accounts: new AccountStore(),
    devices: new DeviceStore(db),
    prekeys: new PreKeyStore(),
    invites: new InviteStore(),
    operatorTokens: new OperatorTokenStore(),
    linkCodes: new LinkCodeStore(),
    envelopes: envelopeStoreFor(adapter),
    plans: new PlanStore(),
    subscriptions: new SubscriptionStore(),
    adminTokens: new AdminTokenStore(),
    auditLog: new AuditLogStore(),
    nodes: new NodeStore(),
    profiles: new ProfileStore(),
  };
  const metrics = new Metrics();
  const gate = new SubscriptionGate(db, stores.subscriptions, clock);
  const hasher = createPasswordHasher({ memoryKib: config.argon2MemoryKib, iterations: config.argon2Iterations });
  const authCache = new AuthCache(config.authCacheSize);
  const limits = new RateLimiter({ clock, enabled: config.rateLimits, rules: configuredRules(config), maxKeys: config.rateLimitKeys });
  const deviceAuth = new DeviceAuthenticator(db, stores.devices, hasher, authCache, limits);
  // Same cache: a login verified over HTTP is not verified again by the socket.
  const socketAuth = new SocketDeviceAuthenticator(db, stores.devices, hasher, authCache, limits).useGate(gate);
  // A full disk: 507 for new sends, a released reserve so acks and expiry go on (storage-guard.ts).
  const storage = new StorageGuard({
    dir: config.database ? '' : config.dataDir,
    reserveBytes: config.database ? 0 : config.storageReserveBytes,
    checkIntervalMs: config.storageCheckIntervalMs,
    log,
    onRefused: () => metrics.storageFullRefusals++,
  });
  metrics.storageFull = () => storage.isFull;
  const writer = new GroupCommitWriter({
    db,
    devices: stores.devices,
    envelopes: stores.envelopes,
    bus,
    clock,
    envelopeTtlMs: config.envelopeTtlMs,
    log,
    durable: () => adapter.syncCommitted(),
    onStoreError: () => metrics.storeErrors++,
    onStorageFull: (err) => storage.report(err),
    onQueued: (n) => (metrics.envelopesQueued += n),
  });
  // Per-device queue caps in front of the writer: a full queue answers 507, stores nothing
  // (a multi-recipient send stores for the other devices and names the full ones).
  const queueCaps = new QueueCaps({
    maxEnvelopes: config.maxQueueEnvelopes,
    maxBytes: config.maxQueueBytes,
    clock,
    load: (targets) => stores.envelopes.usage(db, targets),
  });
  const accessKeys = new AccessKeyCache(recipientAccessLoader(db));
  // Held for the node's life (the bus closes with it). Anything but 'access-changed' here
  // is a 'wake' from the NATS poll or a reconnect: an event may have been lost, so start over.
  bus.subscribe(ACCESS_CHANGES_KEY, (event) => {
    if (event.type !== 'access-changed') accessKeys.clear();
    else if (typeof event.accountId === 'string') accessKeys.invalidate(event.accountId);
  });
  const capped = new CappedSubmitter(writer, queueCaps, () => storage.refuse());
  // Accounts in grace (or suspended) receive but cannot send: checked before delivery, cached per account.
  const send = (sender: DeviceIdentity, destination: string, request: DecodedSendRequest) =>
    gatedSend(sender, () => sendMessage(capped, sender, destination, request));
  const multiSend = (sender: DeviceIdentity, request: DecodedMultiSendRequest) => gatedSend(sender, () => sendMulti(capped, sender, request));
  const gatedSend = async <T>(sender: DeviceIdentity, run: () => Promise<T>): Promise<T> => {
    const started = performance.now();
    try {
      // Identified sends per sending device (rules.ts); sealed ones are limited per destination.
      if (sender !== SEALED_SENDER) limits.take('identifiedSend', sender.accountId, String(sender.deviceId));
      const pending = sender === SEALED_SENDER ? undefined : gate.checkSend(sender.accountId);
      if (pending) await pending;
      return await run();
    } catch (err) {
      // The gate reads the database too: an outage there is a 503 with a retry hint, not a 500.
      if (!(err instanceof ApiError) && isStoreUnavailable(err)) {
        metrics.storeErrors++;
        throw storeUnavailable();
      }
      throw err;
    } finally {
      metrics.sendLatency.observe((performance.now() - started) / 1000);
    }
  };
  /** A send's result as a response frame's status and body (what the HTTP route would answer). */
  const socketAnswer = async (run: () => Promise<unknown>): Promise<{ status: number; body: unknown }> => {
    try {
      return { status: 200, body: await run() };
    } catch (err) {
      if (err instanceof ApiError) return { status: err.status, body: err.toBody() };
      log.error('socket send failed', err);
      return { status: 500, body: { code: 'INTERNAL', message: 'internal error' } };
    }
  };
  const sockets = new SocketServer({
    db,
    envelopes: stores.envelopes,
    bus,
    writer,
    clock,
    log,
    auth: socketAuth,
    // Several writers: ids need not follow commit order, so the cursor alone would miss late commits.
    queueReader: deps.queueReader ?? queueReaderFor(adapter.capabilities),
    onPushed: (n) => (metrics.envelopesDelivered += n),
    onSuspended: (accountId) => gate.forget(accountId),
    socketLimits: { bufferBytes: config.socketBufferBytes, pingsPerSecond: config.socketPingsPerSecond },
    heartbeatMs: config.socketHeartbeatMs,
    upgradeTimeoutMs: config.idleTimeoutMs,
    onServerClose: (reason) => metrics.socketCloses[reason]++,
    send: (sender, destination, request) => socketAnswer(() => send(sender, destination, request)),
    sendMulti: (sender, request) => socketAnswer(() => multiSend(sender, request)),
    // The same checks, limits and answers as PUT /v1/sealed…; `context` exists by the time a socket sends.
    sendSealed: (destination, accessKey, request) => socketAnswer(() => deliverSealed(context, destination, accessKey, request)),
    sendSealedMulti: (accessKey, request) => socketAnswer(() => deliverSealedMulti(context, accessKey, request)),
  });
  const context: AppContext = {
    config,
    transaction: (fn) => durableTransaction(adapter, fn),
    adapter,
    db,
    clock,
    log,
    hasher,
    stores,
    auth: { device: deviceAuth, operator: new OperatorAuthenticator(db, stores.operatorTokens), admin: new AdminAuthenticator(db, stores.adminTokens) },
    subscriptions: gate,
    startedAt: clock(),
    bus,
    metrics,
    blobs: new FsBlobStore(db, config.blobDir || join(config.dataDir, 'blobs'), config.attachmentTtlMs),
    node: { name: config.nodeName, region: config.region, url: config.publicUrl, startedAt: clock(), draining: false },
    sealed: memo(() =>
      config.senderCertificate ? Promise.resolve(SealedSenderKeys.fromFile(config.senderCertificate)) : SealedSenderKeys.loadOrCreate(db, clock()),
    ),
    limits,
    storage,
    accessKeys,
    delivery: {
      writer,
      sockets,
      send,
      sendMulti: multiSend,
      sendSealed: (destination, request) => send(SEALED_SENDER, destination, request),
      sendSealedMulti: (command) =>
        gatedSend(SEALED_SENDER, async () => {
          const outcome = await capped.submitMulti(command);
          if (!outcome.ok) throw outcome.error;
          return outcome.response as MultiSendResponse;
        }),
      deviceRemoved(accountId, deviceId) {
        deviceAuth.forget(accountId, deviceId);
        bus.publish(deviceKey(accountId, deviceId), { type: 'removed' });
      },
      deviceSuperseded(accountId, deviceId) {
        deviceAuth.forget(accountId, deviceId);
        bus.publish(deviceKey(accountId, deviceId), { type: 'superseded' });
      },
      accountSuspended(accountId) {
        gate.forget(accountId);
        for (const c of sockets.connections) {
          if (c.identity.accountId === accountId) c.close(SocketCloseCode.AccountSuspended, 'account suspended');
        }
        // Sockets of the account on other nodes: one event per device, over the bus.
        void stores.devices
          .deviceIds(db, accountId)
          .then((ids) => {
            for (const d of ids) bus.publish(deviceKey(accountId, d), { type: 'suspended' });
          })
          .catch((err: unknown) => log.error('suspension broadcast failed', err));
      },
      accessChanged: accessChangePublisher({
        accessKeys,
        bus,
        log,
        otherListeningNodes: async () => {
          const staleMs = staleAfterMs(config.heartbeatIntervalMs);
          const now = clock();
          const listening = (n: NodeRecord) => ['up', 'draining'].includes(nodeStatus(n, now, staleMs));
          return (await stores.nodes.list(db)).filter((n) => n.name !== config.nodeName && listening(n)).length;
        },
      }),
    },
  };
  return context;
}
