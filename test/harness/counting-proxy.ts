import { createServer, request as httpRequest, type IncomingHttpHeaders, type IncomingMessage, type Server } from 'node:http';
import { connect, type Socket } from 'node:net';
import type { Duplex } from 'node:stream';

interface Tunnel {
  path: string;
  client: Duplex;
  upstream: Socket;
}

/**
 * A transparent proxy that counts: every HTTP request (method, path, whether it carried a
 * credential) and every WebSocket upgrade (path and headers) on its way to the real
 * server. WebSockets are piped as raw bytes, unread. A test can refuse upgrades to a
 * path, cut the tunnels open on it, or drop one on the next bytes in one direction (a
 * connection lost mid-request, before or after the server got it).
 */
export class CountingProxy {
  readonly requests: Array<{ method: string; path: string; authorized: boolean }> = [];
  readonly upgrades: Array<{ path: string; headers: IncomingHttpHeaders }> = [];
  /** A status to refuse an upgrade with, or undefined to let it through. */
  refuseUpgrade: (path: string) => number | undefined = () => undefined;
  private readonly tunnels = new Set<Tunnel>();
  private drop: { path: string; direction: 'to-server' | 'to-client' } | undefined;

  private constructor(
    private readonly server: Server,
    readonly url: string,
    private readonly target: URL,
  ) {
    server.on('request', (req, res) => {
      this.requests.push({ method: req.method ?? 'GET', path: req.url ?? '/', authorized: req.headers.authorization !== undefined });
      const up = httpRequest({ host: this.target.hostname, port: this.target.port, method: req.method, path: req.url, headers: req.headers }, (upRes) => {
        res.writeHead(upRes.statusCode ?? 502, upRes.headers);
        upRes.pipe(res);
      });
      up.on('error', () => res.destroy());
      req.pipe(up);
    });
    server.on('upgrade', (req: IncomingMessage, client: Duplex, head: Buffer) => this.upgrade(req, client, head));
  }

  static async start(targetUrl: string): Promise<CountingProxy> {
    const server = createServer();
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    const port = (server.address() as { port: number }).port;
    return new CountingProxy(server, `http://127.0.0.1:${port}`, new URL(targetUrl));
  }

  /** PUT requests whose path starts with `prefix`. */
  puts(prefix: string): Array<{ method: string; path: string; authorized: boolean }> {
    return this.requests.filter((r) => r.method === 'PUT' && r.path.startsWith(prefix));
  }

  /** Drops the connections open on `path` now. */
  cut(path: string): void {
    for (const t of [...this.tunnels]) if (t.path === path) this.closeTunnel(t);
  }

  /** The next bytes on `path` in `direction` are not passed on: the connection drops instead. */
  dropNext(path: string, direction: 'to-server' | 'to-client'): void {
    this.drop = { path, direction };
  }

  async close(): Promise<void> {
    for (const t of [...this.tunnels]) this.closeTunnel(t);
    this.server.closeAllConnections();
    await new Promise<void>((r) => this.server.close(() => r()));
  }

  private upgrade(req: IncomingMessage, client: Duplex, head: Buffer): void {
    const path = req.url ?? '/';
    this.upgrades.push({ path, headers: { ...req.headers } });
    const refused = this.refuseUpgrade(path);
    if (refused !== undefined) {
      client.end(`HTTP/1.1 ${refused} Refused\r\ncontent-type: application/json\r\nconnection: close\r\n\r\n{"code":"REFUSED","message":"refused by the proxy"}`);
      return;
    }
    const upstream = connect(Number(this.target.port), this.target.hostname);
    const tunnel: Tunnel = { path, client, upstream };
    this.tunnels.add(tunnel);
    upstream.on('connect', () => {
      const lines = [`${req.method} ${path} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      upstream.write(lines.join('\r\n') + '\r\n\r\n');
      if (head.length > 0) upstream.write(head);
      this.pipe(tunnel, client, upstream, 'to-server');
      this.pipe(tunnel, upstream, client, 'to-client');
    });
    const end = () => this.closeTunnel(tunnel);
    upstream.on('error', end);
    upstream.on('close', end);
    client.on('error', end);
    client.on('close', end);
  }

  private pipe(t: Tunnel, from: Duplex, to: Duplex, direction: 'to-server' | 'to-client'): void {
    from.on('data', (chunk: Buffer) => {
      // Only once the upgrade went through: the 101 itself passes.
      const upgraded = direction === 'to-server' || !chunk.toString('latin1', 0, 12).startsWith('HTTP/1.1 101');
      if (upgraded && this.drop && this.drop.path === t.path && this.drop.direction === direction) {
        this.drop = undefined;
        return this.closeTunnel(t);
      }
      to.write(chunk);
    });
  }

  private closeTunnel(t: Tunnel): void {
    if (!this.tunnels.delete(t)) return;
    t.client.destroy();
    t.upstream.destroy();
  }
}
