import { join } from 'node:path';
import { Conversations } from '../conversations/conversations.js';
import type { Ctx } from '../context.js';
import type { LinkHost } from '../linking.js';
import { KeyedMutex } from '../mutex.js';
import { KeyManager } from '../prekeys.js';
import { Receiver } from '../receiver.js';
import { SealedSender } from '../sealed/sealed-sender.js';
import { Sender } from '../sender.js';
import { AccountSlot } from '../services/account-slot.js';
import { BackgroundTasks } from '../services/background-tasks.js';
import { ClientEmitter } from '../services/client-emitter.js';
import { KeyMaintenance } from '../services/key-maintenance.js';
import { OwnDevices } from '../services/own-devices.js';
import { Timestamps } from '../services/timestamps.js';
import { UsernameDirectory } from '../services/username-directory.js';
import { Adapters } from '../store/adapters.js';
import { ConversationStore } from '../store/conversation-store.js';
import { DataStore } from '../store/data-store.js';
import { ensureProfileDir, openDatabase, type Db } from '../store/db.js';
import { ProtocolStore } from '../store/protocol-store.js';
import { Transport } from '../transport/transport.js';
import type { OpenOptions } from '../types.js';

/** Everything one client is made of, wired once; the facade (client.ts) and its sub-APIs only read it. */
export interface ClientServices {
  readonly db: Db;
  readonly profileDir: string;
  readonly opts: OpenOptions;
  readonly ctx: Ctx;
  readonly account: AccountSlot;
  readonly transport: Transport;
  readonly events: ClientEmitter;
  readonly tasks: BackgroundTasks;
  readonly ownDevices: OwnDevices;
  readonly directory: UsernameDirectory;
  readonly keyMaintenance: KeyMaintenance;
  readonly sealed: SealedSender;
  /** The send side: encryption per account and device, sealed or identified. */
  readonly sender: Sender;
  /** Messages, groups, receipts, timers, attachments, profiles (the application layer). */
  readonly convo: Conversations;
  /** The receive side: decrypt, commit, ack, apply. */
  readonly receiver: Receiver;
  /** What registration and linking need. */
  readonly enrolment: LinkHost;
}

/** Opens (or creates) the profile at profileDir/kluis.db and builds its services. A wrong passphrase throws WrongPassphraseError. */
export function openServices(opts: OpenOptions): ClientServices {
  ensureProfileDir(opts.profileDir);
  const db = openDatabase(join(opts.profileDir, 'kluis.db'), opts.passphrase);
  return buildServices(db, opts);
}

function buildServices(db: Db, opts: OpenOptions): ClientServices {
  const now = opts.clock ?? Date.now;
  const store = new ProtocolStore(db, now);
  const data = new DataStore(db, now);
  const conv = new ConversationStore(db, now);
  const keys = new KeyManager(store, data, now);
  const account = new AccountSlot(data);
  const events = new ClientEmitter();
  const tasks = new BackgroundTasks(
    () => account.isClosed,
    (e) => events.safeEmit('error', e),
  );
  const transport = new Transport(account, data, { pingIntervalMs: opts.pingIntervalMs, serverUrls: opts.serverUrls, region: opts.region });
  const ownDevices = new OwnDevices(data, account, transport);
  const directory = new UsernameDirectory(account, data, transport);
  const keyMaintenance = new KeyMaintenance(account, transport, keys, data, tasks);
  const timestamps = new Timestamps(now);
  const locks = new KeyedMutex();

  const ctx: Ctx = {
    store,
    data,
    conv,
    keys,
    locks,
    account,
    transport,
    events,
    tasks,
    ownDeviceList: ownDevices,
    now,
    me: () => account.me(),
    api: () => transport.api(),
    adapters: (zone) => {
      const me = account.me();
      return new Adapters(store, { identityKeyPair: me.identityKeyPair, registrationId: me.registrationId }, zone, now);
    },
    transmit: (accountId, req) => transport.send(accountId, req),
    transmitMulti: (req) => transport.sendMulti(req),
    emit: (event, ...args) => events.safeEmit(event, ...args),
    background: (what, task) => tasks.run(what, task),
    ownDevices: () => ownDevices.ids(),
    setOwnDevices: (ids) => ownDevices.set(ids),
    preKeyUsed: () => keyMaintenance.scheduleTopUp(),
  };

  const sender = new Sender(ctx);
  let convo: Conversations | undefined;
  const sealed = new SealedSender(ctx, () => convo!.messenger.profileKey());
  // Sealed whenever we hold the recipient's access key; any trouble getting a certificate means identified.
  if (opts.sealedSender !== false) sender.sealing = sealed;
  convo = new Conversations(ctx, sender, {
    ...(opts.sealedSender === false ? {} : { sealed }),
    profileDir: opts.profileDir,
    ...(opts.gapWindowMs !== undefined ? { gapWindowMs: opts.gapWindowMs } : {}),
    ...(opts.autoDownloadBytes !== undefined ? { autoDownloadBytes: opts.autoDownloadBytes } : {}),
    resolveUsername: (u) => directory.resolve(u),
    nextTimestamp: () => timestamps.next(),
  });
  const receiver = new Receiver(ctx, sender, opts.hooks ?? {}, (guid) => transport.ack(guid), convo.applier, sealed);
  const enrolment: LinkHost = {
    ctx,
    adopt: (acct, ids) =>
      store.transaction(() => {
        account.adopt(acct);
        ownDevices.set(ids);
      }),
    assertOpen: () => account.assertOpen(),
    pollIntervalMs: () => opts.pollIntervalMs,
    refreshOwnDevices: () => ownDevices.refresh(),
  };

  return {
    db,
    profileDir: opts.profileDir,
    opts,
    ctx,
    account,
    transport,
    events,
    tasks,
    ownDevices,
    directory,
    keyMaintenance,
    sealed,
    sender,
    convo,
    receiver,
    enrolment,
  };
}
