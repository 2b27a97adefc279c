/**
 * The smallest TURN client (RFC 5389 STUN, RFC 5766 TURN) that proves a relay takes the
 * credentials kluis hands out: Allocate with the long-term credential mechanism, then
 * CreatePermission and Send/Data indications to move a datagram through the relay. For
 * tests only: no retries past a lost 5-tuple, no channels, no stale-nonce handling.
 */
import { createHash, createHmac, randomBytes } from 'node:crypto';
import { createSocket, type Socket as UdpSocket } from 'node:dgram';
import { connect, type Socket as TcpSocket } from 'node:net';

const MAGIC_COOKIE = 0x2112a442;
const HEADER = 20;

export const Method = { allocate: 0x003, refresh: 0x004, send: 0x006, data: 0x007, createPermission: 0x008 } as const;
/** The class bits of a message type (RFC 5389 §6). */
const Class = { request: 0x000, indication: 0x010, success: 0x100, error: 0x110 } as const;

export const Attr = {
  username: 0x0006,
  messageIntegrity: 0x0008,
  errorCode: 0x0009,
  lifetime: 0x000d,
  xorPeerAddress: 0x0012,
  data: 0x0013,
  realm: 0x0014,
  nonce: 0x0015,
  xorRelayedAddress: 0x0016,
  requestedTransport: 0x0019,
  xorMappedAddress: 0x0020,
} as const;

export interface StunAttr {
  type: number;
  value: Buffer;
  /** Where the attribute starts in the message: MESSAGE-INTEGRITY covers what is before it. */
  offset: number;
}

export interface StunMessage {
  type: number;
  txId: Buffer;
  attrs: StunAttr[];
  raw: Buffer;
}

export interface Address {
  address: string;
  port: number;
}

export interface TurnCredentials {
  username: string;
  password: string;
}

export type AllocateResult =
  | { ok: true; relayed: Address; mapped: Address | undefined; lifetime: number }
  | { ok: false; code: number; reason: string };

function attr(type: number, value: Buffer): Buffer {
  const out = Buffer.alloc(4 + value.length + ((4 - (value.length % 4)) % 4));
  out.writeUInt16BE(type, 0);
  out.writeUInt16BE(value.length, 2);
  value.copy(out, 4);
  return out;
}

function header(type: number, length: number, txId: Buffer): Buffer {
  const h = Buffer.alloc(HEADER);
  h.writeUInt16BE(type, 0);
  h.writeUInt16BE(length, 2);
  h.writeUInt32BE(MAGIC_COOKIE, 4);
  txId.copy(h, 8);
  return h;
}

/** With `key`, MESSAGE-INTEGRITY comes last: HMAC-SHA1 over the message with its length already counting the MI. */
export function encodeStun(type: number, txId: Buffer, attrs: Array<[number, Buffer]>, key?: Buffer): Buffer {
  const body = Buffer.concat(attrs.map(([t, v]) => attr(t, v)));
  if (!key) return Buffer.concat([header(type, body.length, txId), body]);
  const h = header(type, body.length + 24, txId);
  const mac = createHmac('sha1', key).update(h).update(body).digest();
  return Buffer.concat([h, body, attr(Attr.messageIntegrity, mac)]);
}

export function decodeStun(raw: Buffer): StunMessage {
  if (raw.length < HEADER || raw.readUInt32BE(4) !== MAGIC_COOKIE) throw new Error('not a STUN message');
  const length = raw.readUInt16BE(2);
  if (raw.length < HEADER + length) throw new Error('truncated STUN message');
  const attrs: StunAttr[] = [];
  let offset = HEADER;
  while (offset + 4 <= HEADER + length) {
    const type = raw.readUInt16BE(offset);
    const len = raw.readUInt16BE(offset + 2);
    attrs.push({ type, value: raw.subarray(offset + 4, offset + 4 + len), offset });
    offset += 4 + len + ((4 - (len % 4)) % 4);
  }
  return { type: raw.readUInt16BE(0), txId: raw.subarray(8, 20), attrs, raw: raw.subarray(0, HEADER + length) };
}

/** The response's MESSAGE-INTEGRITY checks out with `key` (a FINGERPRINT after it is excluded, per RFC 5389 §15.4). */
export function integrityOk(msg: StunMessage, key: Buffer): boolean {
  const mi = msg.attrs.find((a) => a.type === Attr.messageIntegrity);
  if (!mi) return false;
  const covered = Buffer.from(msg.raw.subarray(0, mi.offset));
  covered.writeUInt16BE(mi.offset - HEADER + 24, 2);
  return createHmac('sha1', key).update(covered).digest().equals(mi.value);
}

/** The long-term credential key: MD5(username ":" realm ":" password), no SASLprep (ASCII only). */
export function longTermKey(username: string, realm: string, password: string): Buffer {
  return createHash('md5').update(`${username}:${realm}:${password}`).digest();
}

function xorAddress(value: Buffer): Address {
  if (value[1] !== 0x01) throw new Error('only IPv4 addresses are decoded');
  const port = value.readUInt16BE(2) ^ (MAGIC_COOKIE >>> 16);
  const ip = (value.readUInt32BE(4) ^ MAGIC_COOKIE) >>> 0;
  return { address: [ip >>> 24, (ip >>> 16) & 0xff, (ip >>> 8) & 0xff, ip & 0xff].join('.'), port };
}

function encodeXorAddress({ address, port }: Address): Buffer {
  const out = Buffer.alloc(8);
  out[1] = 0x01;
  out.writeUInt16BE(port ^ (MAGIC_COOKIE >>> 16), 2);
  const ip = address.split('.').reduce((n, octet) => (n << 8) + Number(octet), 0) >>> 0;
  out.writeUInt32BE((ip ^ MAGIC_COOKIE) >>> 0, 4);
  return out;
}

function get(msg: StunMessage, type: number): Buffer | undefined {
  return msg.attrs.find((a) => a.type === type)?.value;
}

export function errorOf(msg: StunMessage): { code: number; reason: string } | undefined {
  const v = get(msg, Attr.errorCode);
  if (!v) return undefined;
  return { code: (v[2]! & 0x07) * 100 + v[3]!, reason: v.subarray(4).toString('utf8') };
}

/** One TURN session (one 5-tuple) over UDP or TCP. */
export class TurnClient {
  private readonly inbox: StunMessage[] = [];
  private readonly waiters = new Set<() => void>();
  private tcpBuffer = Buffer.alloc(0);
  private auth?: { username: string; realm: string; nonce: Buffer; key: Buffer };
  private closed = false;

  private constructor(
    readonly transport: 'udp' | 'tcp',
    private readonly write: (b: Buffer) => void,
    private readonly end: () => void,
  ) {}

  static async connect(server: Address, transport: 'udp' | 'tcp'): Promise<TurnClient> {
    if (transport === 'udp') {
      const socket: UdpSocket = createSocket('udp4');
      await new Promise<void>((resolve, reject) => {
        socket.once('error', reject);
        socket.bind(0, '127.0.0.1', () => resolve());
      });
      const client = new TurnClient('udp', (b) => socket.send(b, server.port, server.address), () => socket.close());
      socket.on('message', (m) => client.receive(m));
      return client;
    }
    const socket: TcpSocket = connect({ host: server.address, port: server.port });
    await new Promise<void>((resolve, reject) => {
      socket.once('connect', resolve);
      socket.once('error', reject);
    });
    socket.on('error', () => {});
    const client = new TurnClient('tcp', (b) => socket.write(b), () => socket.destroy());
    socket.on('data', (chunk: Buffer) => client.receiveStream(chunk));
    return client;
  }

  /** Allocate: the unauthenticated request earns a 401 with REALM and NONCE, the retry signs with them. */
  async allocate(creds: TurnCredentials): Promise<AllocateResult> {
    const transport: [number, Buffer] = [Attr.requestedTransport, Buffer.from([17, 0, 0, 0])]; // 17 = UDP
    const challenge = await this.request(Method.allocate, [transport], false);
    const err = errorOf(challenge);
    if (!err) throw new Error('the relay allocated without asking for credentials');
    if (err.code !== 401) return { ok: false, ...err };
    const realm = get(challenge, Attr.realm)?.toString('utf8');
    const nonce = get(challenge, Attr.nonce);
    if (realm === undefined || !nonce) throw new Error('401 without REALM and NONCE');
    this.auth = { username: creds.username, realm, nonce, key: longTermKey(creds.username, realm, creds.password) };
    const res = await this.request(Method.allocate, [transport]);
    const refused = errorOf(res);
    if (refused) return { ok: false, ...refused };
    if (!integrityOk(res, this.auth.key)) throw new Error('Allocate success with a wrong MESSAGE-INTEGRITY');
    const relayed = get(res, Attr.xorRelayedAddress);
    if (!relayed) throw new Error('Allocate success without XOR-RELAYED-ADDRESS');
    const mapped = get(res, Attr.xorMappedAddress);
    return { ok: true, relayed: xorAddress(relayed), mapped: mapped && xorAddress(mapped), lifetime: get(res, Attr.lifetime)?.readUInt32BE(0) ?? 0 };
  }

  /** Lets `peer` (its IP; any port) send to the relayed address; throws on an error response. */
  async createPermission(peer: Address): Promise<void> {
    const res = await this.request(Method.createPermission, [[Attr.xorPeerAddress, encodeXorAddress(peer)]]);
    const err = errorOf(res);
    if (err) throw new Error(`CreatePermission refused: ${err.code} ${err.reason}`);
  }

  /** Releases the allocation (Refresh with LIFETIME 0). */
  async deallocate(): Promise<void> {
    const res = await this.request(Method.refresh, [[Attr.lifetime, Buffer.alloc(4)]]);
    const err = errorOf(res);
    if (err) throw new Error(`Refresh refused: ${err.code} ${err.reason}`);
  }

  /** A Send indication: the relay forwards `data` to `peer` from the relayed address. */
  send(peer: Address, data: Buffer): void {
    this.write(encodeStun(Method.send | Class.indication, randomBytes(12), [[Attr.xorPeerAddress, encodeXorAddress(peer)], [Attr.data, data]]));
  }

  /** The next Data indication: what a peer sent to the relayed address. */
  async nextData(timeoutMs = 5_000): Promise<{ peer: Address; data: Buffer }> {
    const msg = await this.take((m) => m.type === (Method.data | Class.indication), timeoutMs, 'a Data indication');
    return { peer: xorAddress(get(msg, Attr.xorPeerAddress)!), data: get(msg, Attr.data) ?? Buffer.alloc(0) };
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.end();
  }

  /** A request and its response (success or error), signed unless `signed` is false; UDP retransmits. */
  private async request(method: number, attrs: Array<[number, Buffer]>, signed = true): Promise<StunMessage> {
    const txId = randomBytes(12);
    if (signed && !this.auth) throw new Error('no credentials yet: allocate first');
    const all: Array<[number, Buffer]> = signed
      ? [...attrs, [Attr.username, Buffer.from(this.auth!.username)], [Attr.realm, Buffer.from(this.auth!.realm)], [Attr.nonce, this.auth!.nonce]]
      : attrs;
    const packet = encodeStun(method | Class.request, txId, all, signed ? this.auth!.key : undefined);
    const tries = this.transport === 'udp' ? 6 : 1;
    for (let i = 0; i < tries; i++) {
      this.write(packet);
      try {
        return await this.take((m) => m.txId.equals(txId), this.transport === 'udp' ? 500 * (i + 1) : 5_000, `a response to method 0x${method.toString(16)}`);
      } catch (err) {
        if (i === tries - 1) throw err;
      }
    }
    throw new Error('unreachable');
  }

  private receive(raw: Buffer): void {
    try {
      this.inbox.push(decodeStun(raw));
    } catch {
      return; // Not STUN: nothing in these tests sends anything else to the client.
    }
    for (const wake of this.waiters) wake();
  }

  /** TCP carries STUN messages back to back; each one's length is in its header. */
  private receiveStream(chunk: Buffer): void {
    this.tcpBuffer = Buffer.concat([this.tcpBuffer, chunk]);
    while (this.tcpBuffer.length >= HEADER) {
      const total = HEADER + this.tcpBuffer.readUInt16BE(2);
      if (this.tcpBuffer.length < total) return;
      this.receive(Buffer.from(this.tcpBuffer.subarray(0, total)));
      this.tcpBuffer = this.tcpBuffer.subarray(total);
    }
  }

  private take(match: (m: StunMessage) => boolean, timeoutMs: number, what: string): Promise<StunMessage> {
    return new Promise((resolve, reject) => {
      const check = (): boolean => {
        const i = this.inbox.findIndex(match);
        if (i < 0) return false;
        const [msg] = this.inbox.splice(i, 1);
        this.waiters.delete(check);
        clearTimeout(timer);
        resolve(msg!);
        return true;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        reject(new Error(`no ${what} within ${timeoutMs} ms (${this.transport})`));
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }
}
