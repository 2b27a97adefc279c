/**
 * The baseline: a WebSocket relay with no storage and no authentication. It parses each
 * frame (any relay must, to route), forwards sends to the destination's socket as an
 * envelope frame of the same shape kluis uses, answers the sender, and ignores acks.
 * Run as its own process so its CPU and memory are measured apart from the load.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';

const sockets = new Map<string, WebSocket>();
const http = createServer((_, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1 << 20 });

wss.on('connection', (ws, req) => {
  const account = new URL(req.url ?? '/', 'http://x').searchParams.get('account') ?? '';
  sockets.set(account, ws);
  ws.on('close', () => sockets.get(account) === ws && sockets.delete(account));
  ws.on('message', (data) => {
    const frame = JSON.parse(data.toString());
    if (frame.type !== 'send') return;
    const now = Date.now();
    const msg = frame.body.messages[0];
    sockets.get(frame.destination)?.send(
      JSON.stringify({
        type: 'envelope',
        envelope: {
          guid: randomUUID(),
          type: msg.type,
          sourceAccount: account,
          sourceDevice: 1,
          timestamp: frame.body.timestamp,
          serverTimestamp: now,
          content: msg.content,
        },
      }),
    );
    ws.send(JSON.stringify({ type: 'response', id: frame.id, status: 200, body: { serverTimestamp: now } }));
  });
});

http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as { port: number };
  process.stdout.write(`url: http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
