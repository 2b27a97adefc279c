import WebSocket from 'ws';
import { clientFrameFromJson, serverFrameToJson, type JsonClientFrame } from '@kluis/protocol';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- frames are checked by the tests
type Frame = any;

/** A real `ws` client that buffers frames so tests can await them in order. */
export class TestSocket {
  readonly frames: Frame[] = [];
  readonly closed: Promise<{ code: number; reason: string }>;
  private waiters: Array<{ match: (f: Frame) => boolean; resolve: (f: Frame) => void; reject: (e: Error) => void }> = [];
  private isClosed = false;

  private constructor(readonly ws: WebSocket) {
    this.closed = new Promise((resolve) =>
      ws.on('close', (code, reason) => {
        this.isClosed = true;
        for (const w of this.waiters.splice(0)) w.reject(new Error(`socket closed (${code}) while waiting for a frame`));
        resolve({ code, reason: reason.toString() });
      }),
    );
    ws.on('message', (data) => {
      // Binary frames in their JSON view (socket-json.ts): tests read them as before 0.2.
      const frame = serverFrameToJson(data as Buffer);
      const i = this.waiters.findIndex((w) => w.match(frame));
      if (i >= 0) {
        const [w] = this.waiters.splice(i, 1);
        w!.resolve(frame);
      } else this.frames.push(frame);
    });
  }

  /** The device socket (with `auth`), or the sealed socket (`path` '/v1/sealed-socket', no auth). */
  static connect(baseUrl: string, auth?: string, path = '/v1/socket'): Promise<TestSocket> {
    const ws = new WebSocket(baseUrl.replace(/^http/, 'ws') + path, { headers: auth ? { authorization: auth } : {} });
    const socket = new TestSocket(ws);
    return new Promise((resolve, reject) => {
      ws.once('open', () => resolve(socket));
      ws.once('unexpected-response', (_req, res) => {
        let body = '';
        res.on('data', (c: Buffer) => (body += c.toString()));
        res.on('end', () => reject(Object.assign(new Error(`upgrade refused: ${res.statusCode}`), { status: res.statusCode, body: JSON.parse(body || '{}') })));
      });
      ws.once('error', reject);
    });
  }

  /** The next frame matching `match` (frames skipped over stay buffered). */
  next(match: (f: Frame) => boolean = () => true, timeoutMs = 5000): Promise<Frame> {
    const i = this.frames.findIndex(match);
    if (i >= 0) return Promise.resolve(this.frames.splice(i, 1)[0]);
    if (this.isClosed) return Promise.reject(new Error('socket closed'));
    return new Promise((resolve, reject) => {
      const waiter = { match, resolve, reject };
      this.waiters.push(waiter);
      setTimeout(() => {
        const j = this.waiters.indexOf(waiter);
        if (j >= 0) {
          this.waiters.splice(j, 1);
          reject(new Error(`no matching frame within ${timeoutMs} ms; buffered: ${JSON.stringify(this.frames).slice(0, 500)}`));
        }
      }, timeoutMs).unref();
    });
  }

  /** Envelopes until (and consuming) queue-empty. */
  async backlog(timeoutMs = 5000): Promise<Frame[]> {
    const out: Frame[] = [];
    for (;;) {
      const f = await this.next((x) => x.type === 'envelope' || x.type === 'queue-empty', timeoutMs);
      if (f.type === 'queue-empty') return out;
      out.push(f.envelope);
    }
  }

  /** A frame in its JSON view (ciphertexts as base64), sent binary. */
  send(frame: JsonClientFrame): void {
    this.ws.send(clientFrameFromJson(frame));
  }

  sendRaw(data: string | Buffer, binary = false): void {
    this.ws.send(data, { binary });
  }

  private nextId = 1;
  /** A 'send' frame and its response. */
  async request(destination: string, body: Extract<JsonClientFrame, { type: 'send' }>['body']): Promise<{ status: number; body: Frame }> {
    const id = this.nextId++;
    this.send({ type: 'send', id, destination, body });
    const r = await this.next((f) => f.type === 'response' && f.id === id);
    return { status: r.status, body: r.body };
  }

  close(): Promise<{ code: number; reason: string }> {
    this.ws.close();
    return this.closed;
  }
}
