import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Routes, routeParts, type CreateInvitesResponse } from '@kluis/protocol';
import { loadServerConfig, startServer } from '@kluis/server';
import { Client } from '@kluis/sdk';
import { Harness } from '../harness/index.js';
import { linkDevice } from '../harness/sdk-helpers.js';
import { until } from '../../packages/sdk/src/testing/helpers.js';
import { RecordingProxy } from './recording-proxy.js';

const h = new Harness();
afterAll(() => h.dispose());

const CLIENT_ADDRESS = '127.0.0.78';
const USER_AGENT = 'DrillAgent/7.7 (log-hygiene; Oudewater)';
const FORWARDED_FOR = '203.0.113.9';

describe('log hygiene', () => {
  it('a session at debug level logs no usernames, account ids, envelope ids, IP addresses or user agents', async () => {
    const previous = process.env.KLUIS_LOG_LEVEL;
    process.env.KLUIS_LOG_LEVEL = 'debug';
    const lines: string[] = [];
    const dir = await h.tempDir('log-server');
    const config = loadServerConfig({ flags: { data: dir, port: 0 }, env: { KLUIS_ARGON2_MEMORY_KIB: '64', KLUIS_ARGON2_ITERATIONS: '1' } });
    const running = await startServer(config, { log: (l) => lines.push(l) });
    if (previous === undefined) delete process.env.KLUIS_LOG_LEVEL;
    else process.env.KLUIS_LOG_LEVEL = previous;
    h.onDispose(() => running.close());
    const proxy = await RecordingProxy.start({ targetPort: running.port, sourceAddress: CLIENT_ADDRESS });
    h.onDispose(() => proxy.close());
    const token = (await readFile(join(dir, 'operator-token'), 'utf8')).trim();
    const mint = async () => {
      const { method, path } = routeParts(Routes.createInvites);
      const res = await fetch(new URL(path, proxy.url), { method, headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json', 'user-agent': USER_AGENT }, body: '{"count":1}' });
      return ((await res.json()) as CreateInvitesResponse).codes[0]!;
    };

    const guids: string[] = [];
    const open = async (name: string) => {
      const c = await Client.open({
        profileDir: await h.tempDir(name),
        passphrase: h.passphrase,
        bootstrap: false,
        hooks: { beforeCommit: (e) => void guids.push(e.guid) },
      });
      h.onDispose(() => c.close());
      c.on('error', () => {});
      return c;
    };
    const tag = Date.now().toString(36);
    const names = [`loguser${tag}a`, `loguser${tag}b`];
    const [a, b] = [await open('a'), await open('b')];
    await a.register({ serverUrl: proxy.url, inviteCode: await mint(), username: names[0]! });
    await b.register({ serverUrl: proxy.url, inviteCode: await mint(), username: names[1]! });
    const a2 = await open('a2');
    await linkDevice(a, a2, proxy.url);
    for (const c of [a, a2, b]) await c.connect();
    await a.profile.set({ name: 'Log Hygiene Person' });
    await a.send(names[1]!, 'hello over the logged server');
    const file = join(await h.tempDir('log-files'), 'f.txt');
    await writeFile(file, 'file body');
    await b.send(names[0]!, 'a file', { files: [{ path: file }] });
    const g = await a.groups.create('log group', [names[1]!]);
    await a.send(g, 'group hello');
    await until('delivered', async () => (await b.messages.list({ conversation: g })).some((m) => m.text === 'group hello'));
    await until('file delivered', async () => (await a2.messages.list({ conversation: names[1]! })).some((m) => m.attachments?.[0]?.state === 'downloaded'));

    // Requests a log line would most like to mention: failures, with a user agent and a forwarding header.
    const ids = [a.account!.accountId, b.account!.accountId];
    const headers = { 'user-agent': USER_AGENT, 'x-forwarded-for': FORWARDED_FOR, 'content-type': 'application/json' };
    await fetch(new URL(`/v1/keys/${ids[1]}/*`, proxy.url), { headers });
    await fetch(new URL(`/v1/messages/${ids[1]}`, proxy.url), { method: 'PUT', headers, body: '{not json' });
    await fetch(new URL(`/v1/accounts/username/${names[0]}`, proxy.url), { headers: { ...headers, authorization: `Basic ${Buffer.from(`${ids[0]}.1:wrong`).toString('base64')}` } });
    await fetch(new URL(`/v1/no-such-route/${ids[0]}`, proxy.url), { headers });
    await running.close();

    const log = lines.join('\n');
    expect(lines.length).toBeGreaterThan(0);
    expect(guids.length).toBeGreaterThan(3);
    const forbidden = [...names, ...ids, ...guids, CLIENT_ADDRESS, FORWARDED_FOR, USER_AGENT, 'DrillAgent', 'Log Hygiene Person'];
    const found = forbidden.filter((f) => log.includes(f));
    console.log(`server log at debug level: ${lines.length} lines, searched for ${forbidden.length} values, found ${found.length}\n${lines.map((l) => `  ${l}`).join('\n')}`);
    expect(found).toEqual([]);
  });
});
