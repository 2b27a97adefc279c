/**
 * The baseline: a WebSocket relay with no storage and no authentication. It decodes each
 * binary frame (any relay must, to route), forwards sends — identified or sealed — to the
 * destination's socket as an envelope frame of the same shape kluis uses, answers the
 * sender, and ignores acks. Run as its own process so its CPU and memory are measured
 * apart from the load.
 */
import { randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { WebSocketServer, type WebSocket } from 'ws';
import { decodeClientFrame, encodeServerFrame } from '@kluis/protocol';

const sockets = new Map<string, WebSocket>();
const http = createServer((_, res) => res.writeHead(404).end());
const wss = new WebSocketServer({ server: http, perMessageDeflate: false, maxPayload: 1 << 20 });

wss.on('connection', (ws, req) => {
  const url = new URL(req.url ?? '/', 'http://x');
  const account = url.searchParams.get('account') ?? '';
  // The sealed socket of the same peer registers under no account: it only sends.
  if (!url.pathname.endsWith('/sealed-socket')) {
    sockets.set(account, ws);
    ws.on('close', () => sockets.get(account) === ws && sockets.delete(account));
  }
  ws.on('message', (data) => {
    const f = decodeClientFrame(data as Buffer).frame;
    if (f.case !== 'send' && f.case !== 'sealedSend') return;
    const now = BigInt(Date.now());
    const msg = f.value.messages[0]!;
    const sealed = f.case === 'sealedSend';
    sockets.get(f.value.destination)?.send(
      encodeServerFrame({
        frame: {
          case: 'envelope',
          value: {
            guid: randomUUID(),
            type: msg.type,
            sourceAccount: sealed ? undefined : account,
            sourceDevice: sealed ? undefined : 1,
            timestamp: f.case === 'send' ? f.value.timestamp : undefined,
            serverTimestamp: now,
            content: msg.content,
          },
        },
      }),
    );
    ws.send(encodeServerFrame({ frame: { case: 'response', value: { id: f.value.id, status: 200, body: `{"serverTimestamp":${now}}` } } }));
  });
});

http.listen(0, '127.0.0.1', () => {
  const { port } = http.address() as { port: number };
  process.stdout.write(`url: http://127.0.0.1:${port}\n`);
});
process.on('SIGTERM', () => process.exit(0));
