/**
 * A small in-memory implementation of the kluis wire contract, for the SDK's own unit tests
 * (no storage, no argon2, no limits beyond what the pipelines need). The real server lives in
 * packages/server; integration tests run against that one.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { WebSocketServer, type WebSocket } from 'ws';
import {
  clientFrameToJson,
  Envelope as EnvelopeSchema,
  serverFrameFromJson,
  type JsonClientFrame,
  normalizeCode,
  normalizeUsername,
  SocketCloseCode,
  USERNAME_PATTERN,
  type DeviceBundle,
  type Envelope,
  type KyberPreKey,
  type PreKey,
  type SendRequest,
  type MultiSendRequest,
  type SignedPreKey,
} from '@kluis/protocol';
import { check } from '../transport/validate.js';

interface Device {
  id: number;
  registrationId: number;
  password: string;
  name?: string;
  createdAt: number;
  signedPreKey: SignedPreKey;
  kyberLastResort: KyberPreKey;
  preKeys: PreKey[];
  kyberPreKeys: KyberPreKey[];
  queue: Envelope[];
  socket?: WebSocket;
}

interface Account {
  id: string;
  username: string;
  identityKey: string;
  devices: Map<number, Device>;
}

interface Link {
  code: string;
  accountId: string;
  state: 'waiting' | 'requested' | 'provisioned' | 'linked';
  publicKey?: string;
  sealed?: string;
  deviceId?: number;
  expiresAt: number;
}

class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly extra: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

export class FakeServer {
  readonly accounts = new Map<string, Account>();
  readonly invites = new Set<string>();
  readonly links = new Map<string, Link>();
  /** Every send request the server accepted, for assertions. */
  readonly accepted: Array<{ from: string; to: string; req: SendRequest }> = [];
  /** Drop (do not queue) messages matching this predicate, while still answering 200. */
  tamper?: (to: string, deviceId: number, env: Envelope) => Envelope | undefined;
  private http!: Server;
  private wss!: WebSocketServer;
  url = '';

  async start(): Promise<this> {
    this.http = createServer((req, res) => void this.handle(req, res));
    this.wss = new WebSocketServer({ noServer: true });
    this.http.on('upgrade', (req, socket, head) => {
      try {
        const { account, device } = this.auth(req);
        this.wss.handleUpgrade(req, socket, head, (ws) => this.onSocket(ws, account, device));
      } catch {
        socket.end('HTTP/1.1 401 Unauthorized\r\ncontent-type: application/json\r\n\r\n{"code":"UNAUTHORIZED","message":"bad credentials"}');
      }
    });
    await new Promise<void>((r) => this.http.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.http.address() as AddressInfo).port}`;
    return this;
  }

  async stop(): Promise<void> {
    for (const ws of this.wss.clients) ws.terminate();
    this.wss.close();
    this.http.closeAllConnections();
    await new Promise<void>((r) => this.http.close(() => r()));
  }

  invite(): string {
    const code = normalizeCode(randomUUID().replace(/-/g, '').slice(0, 20).toUpperCase().replace(/[ILOU]/g, 'A'));
    this.invites.add(code);
    return code;
  }

  account(username: string): Account {
    const a = [...this.accounts.values()].find((x) => x.username === username);
    if (!a) throw new Error(`no account ${username}`);
    return a;
  }

  private readonly muted = new WeakSet<WebSocket>();

  /** The device's current socket stops answering (a half-dead connection); later ones are fine. */
  muteSocket(username: string, deviceId: number): void {
    const ws = this.account(username).devices.get(deviceId)?.socket;
    if (ws) this.muted.add(ws);
  }

  /** Closes a device's socket with a code (e.g. to simulate a network drop: 1006 via terminate). */
  dropSocket(username: string, deviceId: number): void {
    this.account(username).devices.get(deviceId)?.socket?.terminate();
  }

  private auth(req: IncomingMessage): { account: Account; device: Device } {
    const h = req.headers.authorization ?? '';
    if (!h.startsWith('Basic ')) throw new HttpError(401, 'UNAUTHORIZED', 'missing credentials');
    const [user, password] = Buffer.from(h.slice(6), 'base64').toString('utf8').split(':');
    const [accountId, dev] = (user ?? '').split('.');
    const account = this.accounts.get(accountId ?? '');
    const device = account?.devices.get(Number(dev));
    if (!account || !device || device.password !== password) throw new HttpError(401, 'UNAUTHORIZED', 'bad credentials');
    return { account, device };
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      let raw = '';
      for await (const c of req) raw += c;
      const body = raw ? JSON.parse(raw) : undefined;
      const out = await this.route(req, body);
      res.writeHead(200, { 'content-type': 'application/json' });
      res.end(JSON.stringify(out ?? {}));
    } catch (e) {
      const he = e instanceof HttpError ? e : new HttpError(500, 'INTERNAL', (e as Error).message);
      res.writeHead(he.status, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ code: he.code, message: he.message, ...he.extra }));
    }
  }

  private async route(req: IncomingMessage, body: any): Promise<unknown> {
    const url = new URL(req.url ?? '/', 'http://x');
    const key = `${req.method} ${url.pathname}`;
    let m: RegExpMatchArray | null;
    if (key === 'POST /v1/accounts') {
      const code = normalizeCode(body.inviteCode);
      if (!this.invites.has(code)) throw new HttpError(403, 'INVALID_INVITE', 'invalid invite');
      const username = normalizeUsername(body.username);
      if (!new RegExp(USERNAME_PATTERN).test(username)) throw new HttpError(400, 'INVALID_USERNAME', 'invalid username');
      if ([...this.accounts.values()].some((a) => a.username === username))
        throw new HttpError(409, 'USERNAME_TAKEN', 'taken');
      this.invites.delete(code);
      const account: Account = { id: randomUUID(), username, identityKey: body.identityKey, devices: new Map() };
      account.devices.set(1, this.newDevice(1, body));
      this.accounts.set(account.id, account);
      return { accountId: account.id, deviceId: 1, username };
    }
    if (key === 'PUT /v1/accounts/identity') {
      const { account, device } = this.auth(req);
      if (device.id !== 1) throw new HttpError(403, 'NOT_PRIMARY', 'primary only');
      for (const d of account.devices.values()) d.socket?.close(d.id === 1 ? 1000 : SocketCloseCode.DeviceRemoved);
      account.identityKey = body.identityKey;
      account.devices = new Map([[1, this.newDevice(1, body)]]);
      return {};
    }
    if ((m = key.match(/^GET \/v1\/accounts\/username\/([^/]+)$/))) {
      this.auth(req);
      const username = normalizeUsername(decodeURIComponent(m[1]!));
      const a = [...this.accounts.values()].find((x) => x.username === username);
      if (!a) throw new HttpError(404, 'NOT_FOUND', 'no such user');
      return { accountId: a.id, username: a.username };
    }
    if (key === 'GET /v1/accounts/me') {
      const { account, device } = this.auth(req);
      return { accountId: account.id, username: account.username, deviceId: device.id, identityKey: account.identityKey };
    }
    if (key === 'PUT /v1/keys') {
      const { device } = this.auth(req);
      if (body.signedPreKey) device.signedPreKey = body.signedPreKey;
      if (body.kyberLastResort) device.kyberLastResort = body.kyberLastResort;
      device.preKeys.push(...(body.preKeys ?? []));
      device.kyberPreKeys.push(...(body.kyberPreKeys ?? []));
      return {};
    }
    if (key === 'GET /v1/keys/count') {
      const { device } = this.auth(req);
      return { preKeys: device.preKeys.length, kyberPreKeys: device.kyberPreKeys.length };
    }
    if ((m = key.match(/^GET \/v1\/keys\/([^/]+)\/([^/]+)$/))) {
      this.auth(req);
      const a = this.accounts.get(m[1]!);
      if (!a) throw new HttpError(404, 'NOT_FOUND', 'no account');
      const devs = m[2] === '*' ? [...a.devices.values()] : [a.devices.get(Number(m[2]))].filter((d): d is Device => !!d);
      if (devs.length === 0) throw new HttpError(404, 'NOT_FOUND', 'no device');
      return {
        identityKey: a.identityKey,
        devices: devs.map((d): DeviceBundle => {
          const preKey = d.preKeys.shift();
          const kyber = d.kyberPreKeys.shift() ?? d.kyberLastResort;
          return {
            deviceId: d.id,
            registrationId: d.registrationId,
            signedPreKey: d.signedPreKey,
            ...(preKey ? { preKey } : {}),
            kyberPreKey: kyber,
          };
        }),
      };
    }
    if (key === 'GET /v1/devices') {
      const { account } = this.auth(req);
      return {
        devices: [...account.devices.values()].map((d) => ({
          deviceId: d.id,
          createdAt: d.createdAt,
          ...(d.name ? { name: d.name } : {}),
        })),
      };
    }
    if ((m = key.match(/^DELETE \/v1\/devices\/(\d+)$/))) {
      const { account } = this.auth(req);
      const d = account.devices.get(Number(m[1]));
      if (!d) throw new HttpError(404, 'NOT_FOUND', 'no device');
      d.socket?.close(SocketCloseCode.DeviceRemoved);
      account.devices.delete(d.id);
      return {};
    }
    if (key === 'POST /v1/devices/link-codes') {
      const { account, device } = this.auth(req);
      if (device.id !== 1) throw new HttpError(403, 'NOT_PRIMARY', 'primary only');
      const code = this.invite();
      this.invites.delete(code);
      const link: Link = { code, accountId: account.id, state: 'waiting', expiresAt: Date.now() + 600_000 };
      this.links.set(code, link);
      return { code, expiresAt: link.expiresAt };
    }
    if (key === 'POST /v1/devices/link-codes/status') {
      const { account } = this.auth(req);
      const l = this.link(body.code, account.id);
      return { state: l.state, ...(l.publicKey ? { publicKey: l.publicKey } : {}), ...(l.deviceId ? { deviceId: l.deviceId } : {}) };
    }
    if (key === 'POST /v1/devices/link-codes/provision') {
      const { account } = this.auth(req);
      const l = this.link(body.code, account.id);
      if (l.state !== 'requested') throw new HttpError(409, 'LINK_STATE', l.state);
      l.state = 'provisioned';
      l.sealed = body.sealed;
      return {};
    }
    if (key === 'POST /v1/link/request') {
      const l = this.link(body.code);
      if (l.state !== 'waiting') throw new HttpError(409, 'LINK_STATE', l.state);
      l.state = 'requested';
      l.publicKey = body.publicKey;
      return {};
    }
    if (key === 'POST /v1/link/fetch') {
      const l = this.link(body.code);
      return { state: l.state, ...(l.state === 'provisioned' ? { sealed: l.sealed } : {}) };
    }
    if (key === 'POST /v1/link/complete') {
      const l = this.link(body.code);
      if (l.state !== 'provisioned') throw new HttpError(409, 'LINK_STATE', l.state);
      const a = this.accounts.get(l.accountId)!;
      const id = Math.max(...a.devices.keys()) + 1;
      a.devices.set(id, this.newDevice(id, body));
      l.state = 'linked';
      l.deviceId = id;
      return { accountId: a.id, deviceId: id };
    }
    if (key === 'PUT /v1/messages') {
      const { account, device } = this.auth(req);
      const r = this.deliverMulti(account, device, body);
      if (r.status !== 200) throw new HttpError(r.status, (r.body as any).code, (r.body as any).message, r.body as any);
      return r.body;
    }
    if ((m = key.match(/^PUT \/v1\/messages\/([^/]+)$/))) {
      const { account, device } = this.auth(req);
      const r = this.deliver(account, device, m[1]!, body);
      if (r.status !== 200) throw new HttpError(r.status, (r.body as any).code, (r.body as any).message, r.body as any);
      return r.body;
    }
    throw new HttpError(404, 'NOT_FOUND', `no route ${key}`);
  }

  private link(code: string, accountId?: string): Link {
    const l = this.links.get(normalizeCode(code));
    if (!l || (accountId && l.accountId !== accountId)) throw new HttpError(404, 'INVALID_LINK_CODE', 'no such link code');
    return l;
  }

  private newDevice(id: number, body: any): Device {
    return {
      id,
      registrationId: body.registrationId,
      password: body.password,
      name: body.name,
      createdAt: Date.now(),
      signedPreKey: body.signedPreKey,
      kyberLastResort: body.kyberLastResort,
      preKeys: [...body.preKeys],
      kyberPreKeys: [...body.kyberPreKeys],
      queue: [],
    };
  }

  private deliver(from: Account, fromDevice: Device, to: string, req: SendRequest): { status: number; body: unknown } {
    const dest = this.accounts.get(to);
    if (!dest) return { status: 404, body: { code: 'NOT_FOUND', message: 'no account' } };
    const own = dest.id === from.id;
    const expected = [...dest.devices.keys()].filter((d) => !(own && d === fromDevice.id));
    const named = req.messages.map((m) => m.deviceId);
    const missing = req.resend ? [] : expected.filter((d) => !named.includes(d));
    const extra = named.filter((d) => !expected.includes(d));
    if (missing.length || extra.length || (own && expected.length === 0))
      return {
        status: 409,
        body: { code: 'MISMATCHED_DEVICES', message: 'mismatched devices', missingDevices: missing, extraDevices: extra },
      };
    const stale = req.messages.filter((m) => dest.devices.get(m.deviceId)!.registrationId !== m.registrationId).map((m) => m.deviceId);
    if (stale.length) return { status: 410, body: { code: 'STALE_DEVICES', message: 'stale', staleDevices: stale } };
    const serverTimestamp = Date.now();
    this.accepted.push({ from: `${from.id}.${fromDevice.id}`, to, req });
    for (const m of req.messages) {
      const d = dest.devices.get(m.deviceId)!;
      let env: Envelope | undefined = {
        guid: randomUUID(),
        type: m.type,
        sourceAccount: from.id,
        sourceDevice: fromDevice.id,
        timestamp: req.timestamp,
        serverTimestamp,
        content: m.content,
      };
      if (!check(EnvelopeSchema, env)) throw new Error('bad envelope');
      if (this.tamper) env = this.tamper(to, m.deviceId, env);
      if (!env) continue;
      // Online-only: pushed if connected, never queued.
      if (!req.online) d.queue.push(env);
      d.socket?.send(serverFrameFromJson({ type: 'envelope', envelope: env }));
    }
    return { status: 200, body: { serverTimestamp } };
  }

  /** PUT /v1/messages: every account must reconcile (404, then 409, then 410) before anything is queued. */
  private deliverMulti(from: Account, fromDevice: Device, req: MultiSendRequest): { status: number; body: unknown } {
    const unknownAccounts: string[] = [];
    const mismatched: Array<{ accountId: string; missingDevices: number[]; extraDevices: number[] }> = [];
    const stale: Array<{ accountId: string; staleDevices: number[] }> = [];
    for (const r of req.recipients) {
      const dest = this.accounts.get(r.accountId);
      if (!dest) {
        unknownAccounts.push(r.accountId);
        continue;
      }
      const own = dest.id === from.id;
      if (own && r.devices.some((d) => d.deviceId === fromDevice.id))
        return { status: 400, body: { code: 'BAD_REQUEST', message: 'the sending device cannot be a recipient' } };
      const expected = [...dest.devices.keys()].filter((d) => !(own && d === fromDevice.id));
      const named = r.devices.map((d) => d.deviceId);
      const missingDevices = expected.filter((d) => !named.includes(d));
      const extraDevices = named.filter((d) => !expected.includes(d));
      if (missingDevices.length || extraDevices.length) {
        mismatched.push({ accountId: r.accountId, missingDevices, extraDevices });
        continue;
      }
      const staleDevices = r.devices.filter((d) => dest.devices.get(d.deviceId)!.registrationId !== d.registrationId).map((d) => d.deviceId);
      if (staleDevices.length) stale.push({ accountId: r.accountId, staleDevices });
    }
    if (unknownAccounts.length) return { status: 404, body: { code: 'NOT_FOUND', message: 'unknown accounts', unknownAccounts } };
    if (mismatched.length) return { status: 409, body: { code: 'MISMATCHED_DEVICES', message: 'mismatched devices', mismatched } };
    if (stale.length) return { status: 410, body: { code: 'STALE_DEVICES', message: 'stale', stale } };
    let serverTimestamp = Date.now();
    for (const r of req.recipients) {
      if (r.devices.length === 0) continue;
      const messages = r.devices.map((d) => ({
        deviceId: d.deviceId,
        registrationId: d.registrationId,
        type: req.shared?.type ?? d.type!,
        content: req.shared?.content ?? d.content!,
      }));
      const res = this.deliver(from, fromDevice, r.accountId, { timestamp: req.timestamp, messages, ...(req.online ? { online: true } : {}) });
      serverTimestamp = (res.body as { serverTimestamp: number }).serverTimestamp;
    }
    return { status: 200, body: { serverTimestamp } };
  }

  private onSocket(ws: WebSocket, account: Account, device: Device): void {
    device.socket?.close(SocketCloseCode.ConnectedElsewhere);
    device.socket = ws;
    for (const env of device.queue) ws.send(serverFrameFromJson({ type: 'envelope', envelope: env }));
    ws.send(serverFrameFromJson({ type: 'queue-empty' }));
    ws.on('close', () => {
      if (device.socket === ws) device.socket = undefined;
    });
    ws.on('message', (data) => {
      let frame: JsonClientFrame;
      try {
        frame = clientFrameToJson(data as Buffer);
      } catch {
        return ws.send(serverFrameFromJson({ type: 'error', code: 'BAD_REQUEST', message: 'not a ClientFrame' }));
      }
      if (this.muted.has(ws)) return;
      if (frame.type === 'ping') return ws.send(serverFrameFromJson({ type: 'pong' }));
      if (frame.type === 'sealed-send' || frame.type === 'sealed-multi-send') {
        return ws.send(serverFrameFromJson({ type: 'response', id: frame.id, status: 400, body: { code: 'BAD_REQUEST', message: 'sealed sends go over the sealed socket' } }));
      }
      if (frame.type === 'ack') {
        device.queue = device.queue.filter((e) => !frame.guids.includes(e.guid));
        return;
      }
      if (frame.type === 'send-multi') {
        const r = this.deliverMulti(account, device, frame.body as MultiSendRequest);
        return ws.send(serverFrameFromJson({ type: 'response', id: frame.id, status: r.status, body: r.body }));
      }
      const r = this.deliver(account, device, frame.destination, frame.body as SendRequest);
      ws.send(serverFrameFromJson({ type: 'response', id: frame.id, status: r.status, body: r.body }));
    });
  }
}
