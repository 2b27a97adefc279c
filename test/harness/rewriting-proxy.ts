import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { clientFrameFromJson, clientFrameToJson, serverFrameFromJson, serverFrameToJson, type JsonClientFrame, type JsonServerFrame } from '@kluis/protocol';

export interface HttpExchange {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  status: number;
  body: Buffer;
}

/** What a socket frame hook may do: pass it on (undefined), replace it, or drop it (null). */
export type FrameHook = (frame: Record<string, unknown>) => Record<string, unknown> | null | undefined;

/**
 * A compromised server, played by a man in the middle: forwards HTTP and device sockets
 * to the real server and lets a test rewrite what passes — request paths (serve another
 * account's keys), response bodies (a substituted identity key, a ghost device), socket
 * frames in either direction — and push frames of its own (a replayed envelope). Every
 * JSON exchange is kept, so a drill can show what the client did.
 */
export class RewritingProxy {
  /** Request path → the path actually fetched upstream. */
  mapPath: (method: string, path: string) => string = (_m, p) => p;
  /** Rewrites a JSON response body before the client sees it. */
  rewriteResponse: (x: HttpExchange) => unknown = () => undefined;
  /** Replaces a response outright (status and JSON body), e.g. a lying 409 or 410. */
  respond: (x: HttpExchange) => { status: number; body: unknown } | undefined = () => undefined;
  /** Frames the server pushes to a device (envelopes, responses). */
  toClient: FrameHook = () => undefined;
  /** Frames a device sends (sends, acks). */
  toServer: FrameHook = () => undefined;
  readonly requests: Array<{ method: string; path: string; body: string }> = [];
  readonly clientFrames: Array<Record<string, unknown>> = [];
  readonly serverFrames: Array<Record<string, unknown>> = [];
  /** What the server pushed to each device (`accountId.deviceId`). */
  readonly pushed = new Map<string, Array<Record<string, unknown>>>();
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();
  /** Open device sockets, by the Basic credentials' user (`accountId.deviceId`). */
  private readonly devices = new Map<string, WebSocket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly target: URL,
  ) {
    server.on('request', (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const body = Buffer.concat(chunks);
        const path = this.mapPath(req.method ?? 'GET', req.url ?? '/');
        this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', body: body.toString('utf8') });
        const headers = { ...req.headers };
        delete headers['content-length'];
        const up = httpRequest({ host: this.target.hostname, port: this.target.port, method: req.method, path, headers: { ...headers, 'content-length': String(body.length) } }, (upRes) => {
          const out: Buffer[] = [];
          upRes.on('data', (c: Buffer) => out.push(c));
          upRes.on('end', () => {
            let resBody = Buffer.concat(out);
            let status = upRes.statusCode ?? 502;
            const isJson = String(upRes.headers['content-type'] ?? '').includes('json');
            if (isJson) {
              const x = { method: req.method ?? 'GET', path: req.url ?? '/', headers: req.headers, status, body: resBody };
              const lie = this.respond(x);
              const replaced = lie ? lie.body : this.rewriteResponse(x);
              if (lie) status = lie.status;
              if (replaced !== undefined) resBody = Buffer.from(JSON.stringify(replaced));
            }
            const outHeaders = { ...upRes.headers };
            delete outHeaders['content-length'];
            delete outHeaders['transfer-encoding'];
            res.writeHead(status, { ...outHeaders, 'content-length': String(resBody.length) });
            res.end(resBody);
          });
        });
        up.on('error', () => res.destroy());
        up.end(body);
      });
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const upstream = new WebSocket(`ws://${this.target.host}${req.url}`, { headers: req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {} });
      upstream.on('unexpected-response', (_r, res) => socket.end(`HTTP/1.1 ${res.statusCode} Upstream\r\n\r\n`));
      upstream.on('open', () => this.wss.handleUpgrade(req, socket, head, (client) => this.relay(client, upstream, deviceOf(req.headers.authorization))));
      upstream.on('error', () => socket.destroy());
    });
  }

  static async start(targetUrl: string): Promise<RewritingProxy> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return new RewritingProxy(server, `http://127.0.0.1:${port}`, new URL(targetUrl));
  }

  /** Pushes a frame to a connected device, as the server would. */
  push(device: string, frame: Record<string, unknown>): void {
    const ws = this.devices.get(device);
    if (!ws || ws.readyState !== WebSocket.OPEN) throw new Error(`device ${device} is not connected through the proxy`);
    ws.send(serverFrameFromJson(frame as JsonServerFrame));
  }

  private relay(client: WebSocket, upstream: WebSocket, device: string | undefined): void {
    this.sockets.add(client).add(upstream);
    if (device) this.devices.set(device, client);
    // Frames are binary protobuf; hooks see and return their JSON view (socket-json.ts).
    const pipe = (from: WebSocket, to: WebSocket, hook: () => FrameHook, log: Array<Record<string, unknown>>, toServer: boolean) =>
      from.on('message', (data: RawData, isBinary) => {
        if (!isBinary) return to.send(data, { binary: false });
        const bytes = data as Buffer;
        const frame = (toServer ? clientFrameToJson(bytes) : serverFrameToJson(bytes)) as unknown as Record<string, unknown>;
        log.push(frame);
        const out = hook()(frame);
        if (out === null) return;
        if (out === undefined) return to.send(bytes, { binary: true });
        to.send(toServer ? clientFrameFromJson(out as unknown as JsonClientFrame) : serverFrameFromJson(out as unknown as JsonServerFrame));
      });
    pipe(upstream, client, () => this.toClient, this.serverFrames, false);
    if (device) upstream.on('message', (data: RawData, isBinary) => {
      if (isBinary) this.pushed.set(device, [...(this.pushed.get(device) ?? []), serverFrameToJson(data as Buffer) as unknown as Record<string, unknown>]);
    });
    pipe(client, upstream, () => this.toServer, this.clientFrames, true);
    const close = (ws: WebSocket) => (code: number) => {
      if (ws.readyState === WebSocket.OPEN) ws.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000);
    };
    upstream.on('close', close(client));
    client.on('close', (code: number) => {
      if (device && this.devices.get(device) === client) this.devices.delete(device);
      close(upstream)(code);
    });
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}

function deviceOf(authorization: string | undefined): string | undefined {
  const m = /^Basic (.+)$/.exec(authorization ?? '');
  if (!m) return undefined;
  return Buffer.from(m[1]!, 'base64').toString('utf8').split(':')[0];
}
