/**
 * Groups against the real server: sender keys, server fan-out, membership changes that
 * converge on every device. Four accounts, alice with two devices, and a fifth who joins.
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ProtocolAddress, groupDecrypt } from '@signalapp/libsignal-client';
import { EnvelopeType, encodeContent } from '@kluis/protocol';
import type { ReceivedEnvelope } from '../types.js';
import { Harness, type TestServer } from '../../../../test/harness/index.js';
import { linkDevice, connectedUser } from '../../../../test/harness/sdk-helpers.js';
import type { Client } from '../client.js';
import { GroupSender, type GroupSendResult } from '../groups/group-sender.js';
import { unb64 } from '../keys.js';
import { until } from '../testing/helpers.js';
import { internalsOf } from '../testing/services.js';

const h = new Harness();
let server: TestServer;
let n = 0;

beforeAll(async () => {
  server = await h.startServer();
});
afterAll(() => h.dispose());

async function user(base: string): Promise<{ c: Client; name: string }> {
  const name = `${base}${n++}`;
  return { c: await connectedUser(h, server, name), name };
}

const texts = async (c: Client, conversation: string) =>
  (await c.messages.list({ conversation })).filter((m) => m.kind === 'text').map((m) => m.text);

describe('groups', () => {
  it('create, message, add a fifth, remove one, converge, refuse non-admin changes', async () => {
    const alice = await user('alice');
    const alice2c = await h.openClient(`${alice.name}-2`);
    await linkDevice(alice.c, alice2c, server.url, 'laptop');
    await alice2c.connect();
    const bob = await user('bob');
    const carol = await user('carol');
    const bobSenderKeyEnvelopes: ReceivedEnvelope[] = [];
    const dave = await user('dave');
    bob.c.on('message', () => undefined);
    const all = () => [alice.c, alice2c, bob.c, carol.c, dave.c];

    const conv = await alice.c.groups.create('Team', [bob.name, carol.name, dave.name]);
    for (const c of all()) await until('group known everywhere', async () => (await c.groups.find(conv))?.members.length === 4);

    await alice.c.send(conv, 'hello team');
    await bob.c.send(conv, 'hi from bob');
    for (const c of all())
      await until('both messages everywhere', async () => (await texts(c, conv)).length === 2);

    // A fifth member sees nothing from before she joined.
    const erin = await user('erin');
    await alice.c.groups.addMembers(conv, [erin.name]);
    await until('erin knows the group', async () => (await erin.c.groups.find(conv))?.members.length === 5);
    await carol.c.send(conv, 'welcome erin');
    await until('erin got the welcome', async () => (await texts(erin.c, conv)).includes('welcome erin'));
    expect(await texts(erin.c, conv)).toEqual(['welcome erin']);

    // Dave is removed: he cannot read what follows, not even with the sender keys he holds.
    const captured: ReceivedEnvelope[] = [];
    const bobInternals = internalsOf(bob.c);
    const origProcess = bobInternals.receiver.process.bind(bobInternals.receiver);
    bobInternals.receiver.process = async (env: ReceivedEnvelope) => {
      if (env.type === EnvelopeType.SenderKey) captured.push(env);
      return origProcess(env);
    };
    await alice.c.groups.removeMembers(conv, [dave.name]);
    for (const c of [alice.c, alice2c, bob.c, carol.c, erin.c])
      await until('dave removed everywhere', async () => (await c.groups.find(conv))?.members.length === 4);
    await until('dave saw his removal', async () => !(await dave.c.groups.find(conv))?.members.some((m) => m.username === dave.name));
    await alice.c.send(conv, 'after dave left');
    await until('bob got it', async () => (await texts(bob.c, conv)).includes('after dave left'));
    const secret = captured.at(-1)!;
    const me = alice.c.account!;
    const daveStore = internalsOf(dave.c);
    await expect(
      groupDecrypt(ProtocolAddress.new(me.accountId, me.deviceId), daveStore.adapters().senderKeys, secret.content),
    ).rejects.toThrow();
    await new Promise((r) => setTimeout(r, 300));
    expect(await texts(dave.c, conv)).not.toContain('after dave left');
    void bobSenderKeyEnvelopes;

    // A plain member cannot change the group, neither through the API nor with a forged update.
    await expect(carol.c.groups.rename(conv, 'carol rules')).rejects.toMatchObject({ code: 'NOT_ADMIN' });

    // Concurrent renames by two admins converge to one title on every device.
    await alice.c.groups.promote(conv, bob.name);
    for (const c of [alice.c, alice2c, bob.c, carol.c, erin.c])
      await until('bob is admin everywhere', async () => !!(await c.groups.find(conv))?.members.find((m) => m.username === bob.name)?.admin);
    await Promise.all([alice.c.groups.rename(conv, 'Alpha'), bob.c.groups.rename(conv, 'Bravo')]);
    const members = [alice.c, alice2c, bob.c, carol.c, erin.c];
    await until('titles converge', async () => {
      const infos = await Promise.all(members.map((c) => c.groups.find(conv)));
      if (process.env.DBG) console.log(infos.map((i) => `${i?.title}/${i?.version}`).join(' '));
      return new Set(infos.map((i) => `${i?.title}/${i?.version}`)).size === 1 && ['Alpha', 'Bravo'].includes(infos[0]!.title);
    });

    // Identical state and history on every remaining device.
    await alice.c.send(conv, 'last word');
    for (const c of members) await until('last word everywhere', async () => (await texts(c, conv)).includes('last word'));
    const states = await Promise.all(members.map((c) => c.groups.find(conv)));
    for (const s of states) expect(s).toEqual(states[0]);
    const histories = await Promise.all([alice.c, alice2c, bob.c, carol.c].map((c) => texts(c, conv)));
    for (const hist of histories) expect(hist).toEqual(histories[0]);
    expect(histories[0]).toEqual(['hello team', 'hi from bob', 'welcome erin', 'after dave left', 'last word']);
  }, 120_000);

  it('a forged group update from a non-admin member is ignored by everyone', async () => {
    const alice = await user('alice');
    const bob = await user('bob');
    const carol = await user('carol');
    const conv = await alice.c.groups.create('Forge', [bob.name, carol.name]);
    await until('carol knows', async () => (await carol.c.groups.find(conv)) !== undefined);
    await until('bob knows', async () => (await bob.c.groups.find(conv)) !== undefined);
    const { Conversations } = await import('./conversations.js');
    void Conversations;
    const info = (await carol.c.groups.find(conv))!;
    const { create } = await import('@bufbuild/protobuf');
    const { pb } = await import('@kluis/protocol');
    const gid = new Uint8Array(Buffer.from(info.id, 'hex'));
    const forged = create(pb.GroupStateSchema, {
      id: gid,
      version: BigInt(info.version + 1),
      title: 'hijacked',
      members: info.members.map((m) => ({ accountId: m.accountId, username: m.username, role: pb.GroupRole.ADMIN })),
      changedBy: carol.c.account!.accountId,
    });
    const content = encodeContent({
      body: {
        case: 'data',
        value: {
          timestamp: BigInt(Date.now()),
          counter: 99n,
          senderUsername: carol.name,
          group: { id: gid, version: forged.version },
          groupUpdate: forged,
        },
      },
    });
    await internalsOf(carol.c).sender.sendToAccount(bob.c.account!.accountId, content, Date.now());
    await alice.c.send(conv, 'still mine');
    await until('bob got the next message', async () => (await texts(bob.c, conv)).includes('still mine'));
    expect((await bob.c.groups.find(conv))!.title).toBe('Forge');
  }, 60_000);
});

describe('a member whose device queue is full (offline for long)', () => {
  it('does not block the group: the others get the message once, the full device is named, nothing is retried', async () => {
    // A queue cap of 20 for the test (default 50,000).
    const small = await h.startServer({ maxQueueEnvelopes: 20 });
    const on = async (base: string) => {
      const name = `${base}${n++}`;
      return { c: await connectedUser(h, small, name), name };
    };
    const alice = await on('alice');
    const bob = await on('bob');
    const carol = await on('carol');
    const conv = await alice.c.groups.create('Busy', [bob.name, carol.name]);
    for (const c of [alice.c, bob.c, carol.c]) await until('group known everywhere', async () => (await c.groups.find(conv))?.members.length === 3);
    const carolId = carol.c.account!.accountId;
    await carol.c.close();
    // Alice's 1:1 messages fill carol's queue until the server refuses them (1:1 sends stay refused whole).
    let refused: unknown;
    for (let i = 0; i < 40 && !refused; i++) await alice.c.send(carol.name, `fill ${i}`).catch((e: unknown) => (refused = e));
    expect(refused).toMatchObject({ status: 507, code: 'QUEUE_FULL' });

    // Before: the whole group send was refused with 507 because of carol's one device.
    const spy = vi.spyOn(GroupSender.prototype, 'sendToGroup');
    try {
      const sent = await alice.c.send(conv, 'while carol is away');
      expect(sent.status).not.toBe('failed');
      const result = (await spy.mock.results.at(-1)!.value) as GroupSendResult;
      expect(result.undelivered).toEqual([{ accountId: carolId, deviceIds: [1] }]);
      expect(result.recipients).toBe(1);
    } finally {
      spy.mockRestore();
    }
    await until('bob got it', async () => (await texts(bob.c, conv)).includes('while carol is away'));
    await new Promise((r) => setTimeout(r, 300));
    expect((await texts(bob.c, conv)).filter((t) => t === 'while carol is away')).toHaveLength(1);
  }, 120_000);
});
