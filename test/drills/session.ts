import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Routes, routeParts, type CreateInvitesResponse } from '@kluis/protocol';
import type { ReceivedEnvelope } from '@kluis/sdk';
import { Client } from '@kluis/sdk';
import type { Harness } from '../harness/harness.js';
import { linkDevice } from '../harness/sdk-helpers.js';
import { until } from '../../packages/sdk/src/testing/helpers.js';
import { clientSecrets } from './client-secrets.js';
import type { SentMessage } from './joins.js';
import type { Secret } from './search.js';

/** What the scripted session leaves behind for the search: everything the clients know. */
export interface SessionRecord {
  secrets: Secret[];
  /** Group id (hex) → member usernames and account ids, at each version the server could have seen. */
  groups: Array<{ id: string; title: string; memberSets: Array<Array<{ username: string; accountId: string }>> }>;
  /** Every account's username and id: not secret from the server, but never in its logs. */
  identities: Array<{ username: string; accountId: string }>;
  /** Middle slices of every envelope a device decrypted, committed and acked. */
  ackedCiphertexts: Buffer[];
  /** Messages sent while the receiving device was offline (still queued on the server). */
  undelivered: number;
  /** Who really sent what to which accounts: the truth the join checks are scored against (joins.ts). */
  sent: SentMessage[];
  accounts: number;
  devices: number;
  log: string[];
}

export interface SessionOptions {
  /** Where clients send everything (the recording proxy). */
  url: string;
  operatorToken: string;
  /** A prefix making usernames unique per run (usernames are not secret; this just avoids clashes). */
  tag: string;
}

const NAMES = {
  alice: 'Alíce Ångström-Vermeer',
  bob: 'Bøb "Drill" Bakker',
  carol: 'Carol Çelik of Zeeland',
  dave: 'Dave Døgger (drill)',
  erin: 'Erin Ékmann-Oudewater',
} as const;
type Who = keyof typeof NAMES;

async function mint(url: string, token: string): Promise<string> {
  const { method, path } = routeParts(Routes.createInvites);
  const res = await fetch(new URL(path, url), {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify({ count: 1 }),
  });
  if (!res.ok) throw new Error(`minting an invite failed: ${res.status}`);
  return ((await res.json()) as CreateInvitesResponse).codes[0]!;
}

/**
 * A realistic few minutes of use, compressed: five accounts (Alice with two devices),
 * profile names, a member invite, 1:1 chats, a group of four that loses a member, a file
 * and a voice note, messages queued for an offline device, the rest delivered and acked.
 */
export async function runSession(h: Harness, o: SessionOptions): Promise<SessionRecord> {
  const log: string[] = [];
  const t0 = Date.now();
  const step = (s: string) => log.push(`${s} (${((Date.now() - t0) / 1000).toFixed(1)} s)`);
  const plaintexts: string[] = [];
  const clients = new Map<string, Client>();
  const acked: Buffer[] = [];
  // Called after decrypting, before committing: the device acks right after.
  const beforeCommit = (e: ReceivedEnvelope) => {
    const c = Buffer.from(e.content);
    if (c.length < 64) return;
    const slice = Buffer.from(c.subarray(Math.floor(c.length / 2) - 24, Math.floor(c.length / 2) + 24));
    // One shared ciphertext goes to several devices (a group send): one needle for it.
    if (!acked.some((a) => a.equals(slice))) acked.push(slice);
  };
  const username = (w: Who) => `${o.tag}${w}`;
  const open = async (name: string) => {
    const c = await Client.open({ profileDir: await h.tempDir(`drill-${name}`), passphrase: h.passphrase, bootstrap: false, hooks: { beforeCommit } });
    h.onDispose(() => c.close());
    c.on('error', () => {});
    return c;
  };
  const registerAs = async (w: Who, invite: string) => {
    const c = await open(w);
    // Names of different lengths: stored, they must all be one length (padded before sealing).
    await c.register({ serverUrl: o.url, inviteCode: invite, username: username(w), deviceName: `${w}'s ${w.length % 2 ? 'phone' : 'work computer'}` });
    clients.set(w, c);
    return c;
  };
  const sent: SentMessage[] = [];
  /** Account ids of the group's members, kept current by the script (for `sent`). */
  let groupMembers: { conv: string; accountIds: string[] } | undefined;
  const send = async (from: Client, to: string, text: string, files?: Parameters<Client['send']>[2]) => {
    plaintexts.push(text);
    const me = from.account!.accountId;
    const peer = [...clients.values()].find((c) => c.account?.username === to)?.account?.accountId;
    const accounts = to === groupMembers?.conv ? groupMembers.accountIds : peer ? [peer] : [];
    sent.push({ from: me, to: [...new Set([...accounts, me])] });
    return from.send(to, text, files ?? {});
  };
  const has = async (c: Client, conversation: string, text: string) => (await c.messages.list({ conversation })).some((m) => m.text === text);

  const alice = await registerAs('alice', await mint(o.url, o.operatorToken));
  for (const w of ['bob', 'carol', 'dave'] as const) await registerAs(w, await mint(o.url, o.operatorToken));
  // Erin joins on a member invite Alice made: nothing on the server ties the two once redeemed.
  const { code } = await alice.subscription.createInvite();
  const erin = await registerAs('erin', code);
  step('5 accounts registered (erin with a member invite from alice)');

  const alice2 = await open('alice-2');
  await linkDevice(alice, alice2, o.url, 'laptop');
  step('alice linked a second device');

  const [bob, carol, dave] = (['bob', 'carol', 'dave'] as const).map((w) => clients.get(w)!);
  const everyone = [alice, alice2, bob!, carol!, dave!, erin];
  for (const c of everyone) await c.connect();
  for (const w of Object.keys(NAMES) as Who[]) await clients.get(w)!.profile.set({ name: NAMES[w] });
  step('profile names set');

  await send(alice, username('bob'), 'Drill: the spare key is under the third flowerpot');
  await until('bob got it', () => has(bob!, username('alice'), 'Drill: the spare key is under the third flowerpot'));
  await send(bob!, username('alice'), 'Drill reply: understood, meet at Prinsengracht 263 at nine');
  await send(carol!, username('dave'), 'Drill: Dave, the invoice number is KL-4471-ZX');
  await send(dave!, username('carol'), 'Drill: thanks Carol — ünïcödé ✓ and emoji 🔐 too');
  await send(erin, username('alice'), 'Drill: Erin here, thanks for the invite!');
  for (const [c, conv, text] of [
    [alice2, username('bob'), 'Drill reply: understood, meet at Prinsengracht 263 at nine'],
    [dave!, username('carol'), 'Drill: Dave, the invoice number is KL-4471-ZX'],
    [carol!, username('dave'), 'Drill: thanks Carol — ünïcödé ✓ and emoji 🔐 too'],
    [alice2, username('erin'), 'Drill: Erin here, thanks for the invite!'],
  ] as const) await until(`${text} arrives`, () => has(c, conv, text));
  step('1:1 chats delivered to every device');

  const dir = await h.tempDir('drill-files');
  const filePath = join(dir, 'drill-contract.txt');
  const fileText = 'Drill file body: account 31-4159-26 belongs to the Oudewater foundation.\n'.repeat(20);
  await writeFile(filePath, fileText);
  const voicePath = join(dir, 'drill-voice.ogg');
  const voiceText = 'OggS-drill-voice-note-payload: the meeting moved to Thursday.'.repeat(10);
  await writeFile(voicePath, voiceText);
  plaintexts.push(fileText.trimEnd().split('\n')[0]!, voiceText.slice(0, 60), 'drill-contract.txt', 'drill-voice.ogg');
  await send(alice, username('bob'), 'Drill: contract attached', { files: [{ path: filePath }] });
  await send(bob!, username('alice'), 'Drill: voice note attached', { files: [{ path: voicePath, voiceNote: true, durationMs: 4200 }] });
  await until('file arrives', async () => (await bob!.messages.list({ conversation: username('alice') })).some((m) => m.attachments?.[0]?.state === 'downloaded'));
  await until('voice note arrives', async () => (await alice.messages.list({ conversation: username('bob') })).some((m) => m.attachments?.[0]?.voiceNote && m.attachments[0].state === 'downloaded'));
  step('a file and a voice note sent and downloaded');

  const title = 'Drill group: Oudewater planning';
  plaintexts.push(title);
  const conv = await alice.groups.create(title, [username('bob'), username('carol'), username('dave')]);
  const info = (await alice.groups.find(conv))!;
  const memberSets = [info.members.map((m) => ({ username: m.username, accountId: m.accountId }))];
  groupMembers = { conv, accountIds: info.members.map((m) => m.accountId) };
  for (const c of [bob!, carol!, dave!]) await until('group arrives', async () => (await c.groups.list()).some((g) => g.id === info.id));
  await send(alice, conv, 'Drill group: first agenda item is the harbour lease');
  await send(carol!, conv, 'Drill group: I will bring the blueprints');
  for (const c of [bob!, dave!, alice2]) await until('group messages arrive', () => has(c, conv, 'Drill group: I will bring the blueprints'));
  await alice.groups.removeMembers(conv, [username('dave')]);
  memberSets.push((await alice.groups.find(conv))!.members.map((m) => ({ username: m.username, accountId: m.accountId })));
  groupMembers = { conv, accountIds: memberSets.at(-1)!.map((m) => m.accountId) };
  await send(bob!, conv, 'Drill group: now that Dave is gone, the budget is 40k');
  for (const c of [alice, carol!]) await until('after removal', () => has(c, conv, 'Drill group: now that Dave is gone, the budget is 40k'));
  step('group of 4 created, 2 messages, dave removed, 1 more message');

  // Alice's laptop goes offline: what follows stays queued for it on the server.
  const secrets: Secret[] = [];
  const who = new Map<Client, string>([...clients].map(([w, c]) => [c, w]));
  who.set(alice2, 'alice-2');
  for (const c of everyone) secrets.push(...clientSecrets(c, who.get(c)!));
  // Stored server times are coarse (an hour): an offline phase cut in two by the turn of
  // the hour would leave a bucket of a message or two, which joins as an exact time would
  // (docs/security.md says so). The drill checks the joins within one bucket.
  const toNextHour = 3_600_000 - (Date.now() % 3_600_000);
  if (toNextHour < 30_000) await new Promise((r) => setTimeout(r, toNextHour + 1000));
  // Bob goes offline too: Alice's sealed messages to him wait beside their sync copies
  // for her laptop — the rows a timestamp, a commit or a fan-out's recipients would join.
  await bob!.close();
  await alice2.close();
  const offline = ['Drill (queued): the safe combination is 26-11-84', 'Drill (queued): burn this after reading'];
  for (const text of offline) await send(erin, username('alice'), text);
  // A file too: its blob stays on the server until the offline device fetches it.
  const queuedPath = join(dir, 'drill-queued-scan.pdf');
  const queuedText = 'Drill queued file: passport scan of E. Oudewater, number NX-55-0192.\n'.repeat(10);
  await writeFile(queuedPath, queuedText);
  plaintexts.push(queuedText.trimEnd().split('\n')[0]!, 'drill-queued-scan.pdf');
  await send(erin, username('alice'), 'Drill (queued): scan attached', { files: [{ path: queuedPath }] });
  offline.push('Drill (queued): scan attached');
  await send(carol!, conv, 'Drill group (queued): see you all on Friday');
  offline.push('Drill group (queued): see you all on Friday');
  await send(alice, username('bob'), 'Drill (queued for bob): the van is parked on Keizersgracht');
  await send(alice, conv, 'Drill group (queued): alice confirms Friday');
  for (const text of offline) await until('online devices got it', () => has(alice, text.startsWith('Drill group') ? conv : username('erin'), text));
  await until('the queued file is downloaded by the online device', async () =>
    (await alice.messages.list({ conversation: username('erin') })).some((m) => m.attachments?.[0]?.state === 'downloaded'),
  );
  step(`alice's second device and bob offline: ${offline.length} messages (plus sync copies) queued for the laptop, 2 from alice for bob (and their sync copies)`);
  // The online devices' secrets again: sessions and sender keys moved on.
  for (const c of everyone.filter((c) => c !== alice2 && c !== bob)) secrets.push(...clientSecrets(c, who.get(c)!));

  for (const w of Object.keys(NAMES) as Who[]) secrets.push({ kind: 'display names', label: w, value: NAMES[w] });
  for (const p of new Set(plaintexts)) secrets.push({ kind: 'plaintexts', label: p.slice(0, 40), value: p });
  return {
    secrets,
    ackedCiphertexts: acked,
    identities: [...clients.values()].map((c) => ({ username: c.account!.username, accountId: c.account!.accountId })),
    groups: [{ id: info.id, title, memberSets }],
    undelivered: offline.length + 2,
    sent,
    accounts: 5,
    devices: 6,
    log,
  };
}
