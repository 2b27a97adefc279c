import type { MultiSendRequest, PublicNode, SendRequest } from '@kluis/protocol';
import { NetworkError } from '../errors.js';
import type { AccountSlot } from '../services/account-slot.js';
import type { DataStore } from '../store/data-store.js';
import { HttpApi, type RawResponse } from './http.js';
import { failoverFetch, fetchNodeList, ServerList } from './server-list.js';
import { DeviceSocket, socketUrl, type SocketHandlers } from './socket.js';

export interface TransportOptions {
  pingIntervalMs?: number | undefined;
  /** More nodes of the same service (cluster mode), beside the URL the account registered with. */
  serverUrls?: string[] | undefined;
  region?: string | undefined;
}

/**
 * How this client reaches the service: the authenticated socket while it is open, HTTP
 * otherwise (and for what the socket does not carry: the sealed path, keys, blobs), over
 * the nodes of a cluster with failover. The send and receive pipelines talk to this only.
 */
export class Transport {
  private http: HttpApi | undefined;
  /** Cluster mode: the nodes this client may use, preferred first (server-list.ts). */
  private servers: ServerList | undefined;
  private socket: DeviceSocket | undefined;

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

  get pendingRequests(): number {
    return this.socket?.pendingRequests ?? 0;
  }

  pendingHttp(): ReturnType<HttpApi['pending']> {
    return this.http?.pending() ?? [];
  }

  /** Opens the socket (resolves once connected); it then reconnects on its own until stop(). */
  async start(handlers: SocketHandlers): Promise<void> {
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
    this.socket = socket;
    await socket.start();
  }

  /** Stops taking new envelopes; what is in flight finishes. */
  pause(): void {
    this.socket?.pause();
  }

  async stop(): Promise<void> {
    const s = this.socket;
    this.socket = undefined;
    if (s) await s.stop();
  }

  ack(guid: string): void {
    this.socket?.ack(guid);
  }

  /** A send to one account: over the socket when it is open, else (or when it drops mid-request) over HTTP. */
  async send(accountId: string, req: SendRequest): Promise<RawResponse> {
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

  /** PUT /v1/messages: over the socket when it is open and the frame fits, else over HTTP. */
  async sendMulti(req: MultiSendRequest): Promise<RawResponse> {
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
