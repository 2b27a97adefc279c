import { connect, createServer, type Server, type Socket } from 'node:net';

/** The bytes of one TCP connection through the proxy. */
export interface RecordedConnection {
  id: number;
  toServer: Buffer;
  fromServer: Buffer;
}

/**
 * A TCP proxy in front of the server that keeps every byte in both directions: what an
 * adversary tapping the server's port (or the server holder itself) sees. Upstream
 * connections leave from `sourceAddress`, a loopback address of its own, so the drill can
 * tell the clients' address apart from the server's own and search the logs for it.
 */
export class RecordingProxy {
  private readonly chunks = new Map<number, { toServer: Buffer[]; fromServer: Buffer[] }>();
  private readonly sockets = new Set<Socket>();
  private nextId = 1;

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  static async start(o: { targetPort: number; sourceAddress?: string; port?: number }): Promise<RecordingProxy> {
    const server = createServer();
    const proxy = await new Promise<RecordingProxy>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.port ?? 0, '127.0.0.1', () => resolve(new RecordingProxy(server, (server.address() as { port: number }).port)));
    });
    server.on('connection', (client) => proxy.relay(client, o.targetPort, o.sourceAddress));
    return proxy;
  }

  private relay(client: Socket, targetPort: number, sourceAddress: string | undefined): void {
    const id = this.nextId++;
    const rec = { toServer: [] as Buffer[], fromServer: [] as Buffer[] };
    this.chunks.set(id, rec);
    const upstream = connect({ host: '127.0.0.1', port: targetPort, ...(sourceAddress ? { localAddress: sourceAddress } : {}) });
    this.sockets.add(client).add(upstream);
    client.on('data', (d: Buffer) => {
      rec.toServer.push(Buffer.from(d));
      upstream.write(d);
    });
    upstream.on('data', (d: Buffer) => {
      rec.fromServer.push(Buffer.from(d));
      client.write(d);
    });
    const done = () => {
      client.destroy();
      upstream.destroy();
      this.sockets.delete(client);
      this.sockets.delete(upstream);
    };
    client.on('close', done).on('error', done);
    upstream.on('close', done).on('error', done);
  }

  connections(): RecordedConnection[] {
    return [...this.chunks].map(([id, r]) => ({ id, toServer: Buffer.concat(r.toServer), fromServer: Buffer.concat(r.fromServer) }));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.destroy();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

/**
 * What a wiretapper reads from one direction of a connection: HTTP as it is; after a
 * WebSocket upgrade, the frames' payloads unmasked (client frames are XOR-masked with a
 * key sent alongside, which hides nothing from an observer but defeats a naive grep).
 */
export function readableWire(bytes: Buffer): Buffer {
  const headerEnd = bytes.indexOf('\r\n\r\n');
  if (headerEnd === -1) return bytes;
  const head = bytes.subarray(0, headerEnd).toString('latin1').toLowerCase();
  const upgraded = /^upgrade:\s*websocket/m.test(head) && (head.startsWith('get ') || head.startsWith('http/1.1 101'));
  if (!upgraded) return bytes;
  const out: Buffer[] = [bytes.subarray(0, headerEnd + 4)];
  let i = headerEnd + 4;
  while (i + 2 <= bytes.length) {
    const b1 = bytes[i + 1]!;
    let len = b1 & 0x7f;
    let p = i + 2;
    if (len === 126) {
      if (p + 2 > bytes.length) break;
      len = bytes.readUInt16BE(p);
      p += 2;
    } else if (len === 127) {
      if (p + 8 > bytes.length) break;
      len = Number(bytes.readBigUInt64BE(p));
      p += 8;
    }
    const masked = (b1 & 0x80) !== 0;
    const mask = masked ? bytes.subarray(p, p + 4) : undefined;
    if (masked) p += 4;
    if (p + len > bytes.length) {
      // A frame cut off by the end of the capture: keep what there is.
      out.push(bytes.subarray(p));
      break;
    }
    const payload = Buffer.from(bytes.subarray(p, p + len));
    if (mask) for (let k = 0; k < payload.length; k++) payload[k]! ^= mask[k & 3]!;
    out.push(payload, Buffer.from('\n'));
    i = p + len;
  }
  return Buffer.concat(out);
}
