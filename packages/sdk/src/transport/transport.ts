import type { MultiSendRequest, PublicNode, SealedMultiRequest, SendRequest } from '@kluis/protocol';
import { NetworkError } from '../errors.js';
import type { AccountSlot } from '../services/account-slot.js';
import type { DataStore } from '../store/data-store.js';
import { HttpApi, type RawResponse } from './http.js';
import { failoverFetch, fetchNodeList, ServerList } from './server-list.js';
import { SealedSocket, sealedSocketUrl } from './sealed-socket.js';
import { DeviceSocket, socketUrl, type MultiSendBody, type SendBody, type SocketHandlers } from './socket.js';

export interface TransportOptions {
  pingIntervalMs?: number | undefined;
  /** More nodes of the same service (cluster mode), beside the URL the account registered with. */
  serverUrls?: string[] | undefined;
  region?: string | undefined;
}

/** An upgrade that hangs must not hold up connect(): the sealed socket is optional. */
const SEALED_HANDSHAKE_TIMEOUT_MS = 10_000;

/**
 * How this client reaches the service: the authenticated socket while it is open, HTTP
 * otherwise (and for what the socket does not carry: keys, blobs); sealed sends over the
 * unauthenticated sealed socket while it is open, else over HTTP without credentials;
 * over the nodes of a cluster with failover. The send and receive pipelines talk to this only.
 */
export class Transport {
  private http: HttpApi | undefined;
  /** Cluster mode: the nodes this client may use, preferred first (server-list.ts). */
  private servers: ServerList | undefined;
  private socket: DeviceSocket | undefined;
  /** No credential, no tie to `socket` but the network (sealed-socket.ts). */
  private sealed: SealedSocket | undefined;

  constructor(
    private readonly account: AccountSlot,
    private readonly data: DataStore,
    private readonly opts: TransportOptions,
  ) {
    // Another account (linking, re-registration) means other credentials and maybe another home node.
    account.onAdopt(() => {
      this.http = undefined;
      this.servers = undefined;
    });
  }

  /** The HTTP API of the account's service, authenticated as this device. */
  api(): HttpApi {
    const me = this.account.me();
    this.http ??= new HttpApi(
      me.serverUrl,
      () => {
        const s = this.account.current;
        return s ? { accountId: s.accountId, deviceId: s.deviceId, password: s.password } : undefined;
      },
      // Requests go to the list's current node and fail over to the next when it is unreachable.
      { fetch: failoverFetch(this.serverList()) },
    );
    return this.http;
  }

  get isOpen(): boolean {
    return this.socket?.isOpen ?? false;
  }

  get isRunning(): boolean {
    return this.socket?.isRunning ?? false;
  }

  /** The sealed socket is open: sealed sends go over it. */
  get isSealedOpen(): boolean {
    return this.sealed?.isOpen ?? false;
  }

  get pendingRequests(): number {
    return (this.socket?.pendingRequests ?? 0) + (this.sealed?.pendingRequests ?? 0);
  }

  pendingHttp(): ReturnType<HttpApi['pending']> {
    return this.http?.pending() ?? [];
  }

  /**
   * Opens the device socket (resolves once connected) and, beside it, the sealed socket
   * (whose failure only leaves sealed sends on HTTP); each then reconnects on its own
   * until stop().
   */
  async start(handlers: SocketHandlers): Promise<void> {
    await this.sealed?.stop();
    const socket = new DeviceSocket(
      {
        url: () => socketUrl(this.serverList().pick()),
        authorization: () => this.api().authorization(),
        pingIntervalMs: this.opts.pingIntervalMs,
        onUrlFailed: (url) => this.serverList().failed(url),
        onUrlOpened: (url) => this.serverList().succeeded(url),
        startAttempts: () => Math.min(this.serverList().size, 4),
      },
      handlers,
    );
    const sealed = new SealedSocket({
      url: () => sealedSocketUrl(this.serverList().pick()),
      pingIntervalMs: this.opts.pingIntervalMs,
      handshakeTimeoutMs: SEALED_HANDSHAKE_TIMEOUT_MS,
      onUrlFailed: (url) => this.serverList().failed(url),
      onUrlOpened: (url) => this.serverList().succeeded(url),
      startAttempts: () => Math.min(this.serverList().size, 4),
      onError: (e) => handlers.onError(e),
    });
    this.socket = socket;
    this.sealed = sealed;
    // Settled either way; a failure keeps retrying in the background (or ends on a 4xx).
    const sealedStarted = sealed.start().catch(() => {});
    try {
      await socket.start();
    } catch (e) {
      await sealed.stop();
      throw e;
    }
    await sealedStarted;
  }

  /** Stops taking new envelopes; what is in flight finishes. */
  pause(): void {
    this.socket?.pause();
  }

  async stop(): Promise<void> {
    const s = this.socket;
    const sealed = this.sealed;
    this.socket = undefined;
    this.sealed = undefined;
    await Promise.all([s?.stop(), sealed?.stop()]);
  }

  ack(guid: string): void {
    this.socket?.ack(guid);
  }

  /** A send to one account: over the socket when it is open, else (or when it drops mid-request) over HTTP. */
  async send(accountId: string, req: SendRequest): Promise<RawResponse> {
    if (this.socket?.isOpen) {
      try {
        return await this.socket.request(accountId, toSendBody(req));
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        // The socket dropped mid-request: retry over HTTP (receivers dedupe by timestamp).
      }
    }
    return this.api().sendMessage(accountId, req);
  }

  /** PUT /v1/messages: over the socket when it is open and the frame fits, else over HTTP. */
  async sendMulti(req: MultiSendRequest): Promise<RawResponse> {
    if (this.socket?.isOpen) {
      try {
        return await this.socket.requestMulti(toMultiBody(req));
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        // Dropped mid-request, or too large for a frame: HTTP (receivers dedupe by timestamp).
      }
    }
    return this.api().sendMulti(req);
  }

  /**
   * PUT /v1/sealed/:accountId: over the sealed socket when it is open, else (or when it
   * drops mid-request, or the frame is too large) over HTTP. Answers are the same either
   * way; a 4xx is the caller's, never a reason to try HTTP.
   */
  async sendSealed(accountId: string, req: SendRequest, accessKey: Uint8Array): Promise<RawResponse> {
    if (this.sealed?.isOpen) {
      try {
        return await this.sealed.send(accountId, toSendBody(req), accessKey);
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
        // Dropped mid-request or too large: HTTP (receivers drop a repeat by its content's timestamp).
      }
    }
    return this.api().sendSealed(accountId, req, accessKey);
  }

  /**
   * PUT /v1/sealed (a libsignal multi-recipient message and the XOR of the recipients'
   * keys): over the sealed socket when it is open and the frame fits, else over HTTP.
   */
  async sendSealedMulti(message: Uint8Array, accessKey: Uint8Array, o: { online?: boolean; shortLived?: boolean } = {}): Promise<RawResponse> {
    if (this.sealed?.isOpen) {
      try {
        return await this.sealed.sendMulti(message, accessKey, o.online === true, o.shortLived === true);
      } catch (e) {
        if (!(e instanceof NetworkError)) throw e;
      }
    }
    const req: SealedMultiRequest = {
      ...(o.online ? { online: true } : {}),
      ...(o.shortLived ? { shortLived: true } : {}),
      message: Buffer.from(message).toString('base64'),
    };
    return this.api().sendSealedMulti(req, accessKey);
  }

  /** Best effort: a server without GET /v1/nodes (or unreachable) leaves the list as it is. */
  async refreshNodes(): Promise<void> {
    const list = this.serverList();
    const nodes = await fetchNodeList(list.pick());
    if (!nodes || this.account.isClosed) return;
    list.update(nodes);
    this.data.set('serverNodes', nodes);
  }

  /** The account's home URL, the app's extra URLs and the nodes last learned from the server. */
  private serverList(): ServerList {
    const me = this.account.me();
    this.servers ??= new ServerList({
      home: me.serverUrl,
      extra: this.opts.serverUrls,
      known: this.data.get<PublicNode[]>('serverNodes') ?? [],
      region: this.opts.region,
    });
    return this.servers;
  }
}

/*
 * The senders build the HTTP routes' bodies (base64); the socket carries raw bytes, so
 * they are decoded here, on the client, once per send.
 */
const unbase64 = (s: string): Uint8Array => Buffer.from(s, 'base64');

function toSendBody(req: SendRequest): SendBody {
  return { ...req, messages: req.messages.map((m) => ({ ...m, content: unbase64(m.content) })) };
}

function toMultiBody(req: MultiSendRequest): MultiSendBody {
  return {
    ...req,
    shared: req.shared && { type: req.shared.type, content: unbase64(req.shared.content) },
    recipients: req.recipients.map((r) => ({
      accountId: r.accountId,
      devices: r.devices.map((d) => ({ ...d, content: d.content === undefined ? undefined : unbase64(d.content) })),
    })),
  };
}
