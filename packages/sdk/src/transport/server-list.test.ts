import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { failoverFetch, FAILED_COOLDOWN_MS, fetchNodeList, ServerList } from './server-list.js';

const nodes = [
  { name: 'ams-1', region: 'eu-nl', url: 'https://ams-1.example' },
  { name: 'ams-2', region: 'eu-nl', url: 'https://ams-2.example' },
  { name: 'fra-1', region: 'eu-de', url: 'https://fra-1.example' },
];

describe('ServerList', () => {
  it('prefers its region, then home, and skips failed nodes for a cooldown', () => {
    let now = 1_000_000;
    const list = new ServerList({ home: 'https://fra-1.example/', known: nodes, region: 'eu-nl', now: () => now });
    expect(list.size).toBe(3);
    const first = list.pick();
    expect(['https://ams-1.example', 'https://ams-2.example']).toContain(first);
    list.failed(first);
    const second = list.pick();
    expect(second).not.toBe(first);
    expect(second).toMatch(/ams-/);
    list.failed(`${second.replace('https', 'wss')}/v1/socket`);
    // Both of the region's nodes failed: out of the region, home first.
    expect(list.pick()).toBe('https://fra-1.example');
    list.failed('https://fra-1.example');
    // Everything failed lately: the oldest failure is retried first.
    expect(list.pick()).toBe(first);
    now += FAILED_COOLDOWN_MS + 1;
    expect(list.pick()).toMatch(/ams-/);
  });

  it('without a region uses home first, and ignores URLs that do not parse', () => {
    const list = new ServerList({ home: 'http://127.0.0.1:1', extra: ['not a url', 'http://127.0.0.1:2'], known: nodes });
    expect(list.pick()).toBe('http://127.0.0.1:1');
    expect(list.size).toBe(5);
  });

  it('spreads the clients of one region over its nodes', () => {
    const picks = new Set<string>();
    for (let i = 0; i < 50; i++) picks.add(new ServerList({ home: 'https://fra-1.example', known: nodes, region: 'eu-nl' }).pick());
    expect([...picks].sort()).toEqual(['https://ams-1.example', 'https://ams-2.example']);
  });
});

describe('failoverFetch and fetchNodeList against real sockets', () => {
  const servers: Server[] = [];
  afterEach(async () => {
    await Promise.all(servers.splice(0).map((s) => new Promise((r) => s.close(r))));
  });
  const serve = async (status: number, body: unknown): Promise<string> => {
    const server = createServer((_req, res) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  };
  const deadUrl = async () => {
    const url = await serve(200, {});
    await new Promise((r) => servers.pop()!.close(r));
    return url;
  };

  it('moves a request off an unreachable node and off a draining (503) one', async () => {
    const dead = await deadUrl();
    const draining = await serve(503, { code: 'UNAVAILABLE', message: 'draining' });
    const alive = await serve(200, { ok: true });
    const list = new ServerList({ home: dead, extra: [draining, alive], random: (() => { let i = 0; return () => i++; })() });
    const fetchVia = failoverFetch(list);
    const res = await fetchVia(`${dead}/v1/accounts/me?x=1`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true });
    // The next request goes straight to the node that worked.
    expect(list.pick()).toBe(alive);
  });

  it('reads a bootstrap list, and tolerates servers without one', async () => {
    const good = await serve(200, { nodes });
    expect(await fetchNodeList(good)).toEqual(nodes);
    expect(await fetchNodeList(await serve(404, { code: 'NOT_FOUND' }))).toBeUndefined();
    expect(await fetchNodeList(await serve(200, { nodes: [{ name: 1 }] }))).toBeUndefined();
    expect(await fetchNodeList(await deadUrl())).toBeUndefined();
  });
});
