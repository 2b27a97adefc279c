/**
 * The host's send route with the page's message id, against a real server and a real SDK
 * client (only the host's unlocked client is put in place): a second request for one
 * message — a second Enter while the first is in flight, a retry after an error, the
 * browser sending a request again — is that message, never a second one (issue 16: a
 * first message shown twice on both sides).
 */
import { randomUUID } from 'node:crypto';
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { NetworkError, type Client } from '@kluis/sdk';
import { servicesOf } from '@kluis/sdk/testing';
import { afterAll, afterEach, beforeAll, expect, it, vi } from 'vitest';
import { Harness, type TestServer } from '../../../test/harness/index.js';
import { connectedUser, until } from '../../../test/harness/sdk-helpers.js';
import type { Message } from './api/index.js';
import { startAppHost, type AppHost } from './host.js';

const h = new Harness();
let server: TestServer;
let host: AppHost;
let n = 0;

beforeAll(async () => {
  server = await h.startServer();
  const dir = await h.tempDir('app');
  await mkdir(join(dir, 'dist'));
  await writeFile(join(dir, 'dist', 'index.html'), '<!doctype html><title>kluis</title>');
  host = await startAppHost({ profileName: 'carol', profileDir: join(dir, 'profile'), distDir: join(dir, 'dist') });
});
afterEach(() => vi.restoreAllMocks());
afterAll(async () => {
  await host?.close();
  await h.dispose();
});

/** Carol, whose client the host serves, and dave, who has never heard from her: a first contact. */
async function carolAndDave(): Promise<{ carol: Client; dave: Client; daveName: string; carolName: string }> {
  const carolName = `carol${n}`;
  const daveName = `dave${n++}`;
  const [carol, dave] = await Promise.all([connectedUser(h, server, carolName), connectedUser(h, server, daveName)]);
  vi.spyOn(host.session, 'requireClient').mockReturnValue(carol);
  return { carol, dave, carolName, daveName };
}

const send = (to: string, body: object) =>
  fetch(`${host.origin}/api/conversations/${to}/messages`, {
    method: 'POST',
    headers: { authorization: `Bearer ${host.token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });

const texts = async (c: Client, conversation: string) => (await c.messages.list({ conversation })).filter((m) => m.kind === 'text').map((m) => [m.text, m.timestamp]);

/** Long enough for a second copy to have arrived, had there been one. */
const settle = () => new Promise((r) => setTimeout(r, 1500));

it('two requests for one message while the first is in flight: one message at carol and at dave', async () => {
  const { carol, dave, carolName, daveName } = await carolAndDave();
  const id = randomUUID();
  const [a, b] = await Promise.all([send(daveName, { text: 'hi dave, this is carol', id }), send(daveName, { text: 'hi dave, this is carol', id })]);
  expect([a.status, b.status]).toEqual([200, 200]);
  const [ma, mb] = (await Promise.all([a.json(), b.json()])) as Message[];
  expect(ma!.id).toBe(id);
  expect(mb!.id).toBe(id);

  await until('dave has it', async () => (await texts(dave, carolName)).length > 0, 20_000);
  await settle();
  expect(await texts(dave, carolName)).toEqual([['hi dave, this is carol', ma!.timestamp]]);
  expect(await texts(carol, daveName)).toEqual([['hi dave, this is carol', ma!.timestamp]]);
});

it('the same message again after an error (dave got it, carol never heard): the same message, once on both sides', async () => {
  const { carol, dave, carolName, daveName } = await carolAndDave();
  const ctx = servicesOf(carol).ctx;
  const transmit = ctx.transmit.bind(ctx);
  vi.spyOn(ctx, 'transmit').mockImplementationOnce(async (accountId, req) => {
    await transmit(accountId, req);
    throw new NetworkError('the answer was lost');
  });
  const id = randomUUID();

  const first = await send(daveName, { text: 'hi dave, this is carol', id });
  expect(first.status).toBeGreaterThanOrEqual(400);
  // The page kept the text and the id: Enter again.
  const again = await send(daveName, { text: 'hi dave, this is carol', id });
  expect(again.status).toBe(200);
  const m = (await again.json()) as Message;
  expect(m).toMatchObject({ id, status: 'sent' });

  await until('dave has it', async () => (await texts(dave, carolName)).length > 0, 20_000);
  await settle();
  expect(await texts(dave, carolName)).toEqual([['hi dave, this is carol', m.timestamp]]);
  expect(await texts(carol, daveName)).toEqual([['hi dave, this is carol', m.timestamp]]);
});
