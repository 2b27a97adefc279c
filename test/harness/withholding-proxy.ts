import { createServer, request as httpRequest, type IncomingMessage, type Server } from 'node:http';
import type { Duplex } from 'node:stream';
import { WebSocket, WebSocketServer, type RawData } from 'ws';
import { clientFrameFromJson, serverFrameToJson, type JsonServerFrame } from '@kluis/protocol';

type Envelope = Extract<JsonServerFrame, { type: 'envelope' }>['envelope'];

/**
 * A man in the middle for one client: forwards HTTP and the device socket to the real
 * server, and withholds chosen envelopes — acking them upstream itself, so the server
 * deletes them and the client never sees them (a server or network that drops messages).
 */
export class WithholdingProxy {
  readonly withheld: Envelope[] = [];
  private readonly wss = new WebSocketServer({ noServer: true });
  private readonly sockets = new Set<WebSocket>();

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly target: URL,
    /** Return true to withhold this envelope. */
    public withhold: (e: Envelope) => boolean,
  ) {
    server.on('request', (req, res) => {
      const up = httpRequest(
        { host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers },
        (upRes) => {
          res.writeHead(upRes.statusCode ?? 502, upRes.headers);
          upRes.pipe(res);
        },
      );
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) => {
      const upstream = new WebSocket(`ws://${this.target.host}${req.url}`, {
        // The sealed socket takes no credential: forward one only where the client sent it.
        headers: req.headers.authorization !== undefined ? { authorization: req.headers.authorization } : {},
      });
      upstream.on('unexpected-response', (_r, res) => {
        socket.end(`HTTP/1.1 ${res.statusCode} Upstream\r\n\r\n`);
      });
      upstream.on('open', () =>
        this.wss.handleUpgrade(req, socket, head, (client) => this.relay(client, upstream)),
      );
      upstream.on('error', () => socket.destroy());
    });
  }

  static async start(targetUrl: string, withhold: (e: Envelope) => boolean = () => false): Promise<WithholdingProxy> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return new WithholdingProxy(server, `http://127.0.0.1:${port}`, new URL(targetUrl), withhold);
  }

  private relay(client: WebSocket, upstream: WebSocket): void {
    this.sockets.add(client).add(upstream);
    upstream.on('message', (data: RawData, isBinary) => {
      if (isBinary) {
        const frame = serverFrameToJson(data as Buffer);
        if (frame.type === 'envelope' && this.withhold(frame.envelope)) {
          this.withheld.push(frame.envelope);
          upstream.send(clientFrameFromJson({ type: 'ack', guids: [frame.envelope.guid] }));
          return;
        }
      }
      client.send(data, { binary: isBinary });
    });
    client.on('message', (data: RawData, isBinary) => upstream.send(data, { binary: isBinary }));
    const close = (ws: WebSocket) => (code: number) => {
      if (ws.readyState === WebSocket.OPEN) ws.close(code >= 1000 && code < 5000 && code !== 1005 && code !== 1006 ? code : 1000);
    };
    upstream.on('close', close(client));
    client.on('close', close(upstream));
  }

  async close(): Promise<void> {
    for (const s of this.sockets) s.terminate();
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }
}
