import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, onTestFailed } from 'vitest';
import { startCoturn, type Coturn, type ServerProcess } from '../harness/index.js';
import { RecordingProxy } from '../drills/recording-proxy.js';
import { AppWorld, conv, DESKTOP, FAKE_DESKTOP, notes, openPane, PHONE, poll, setHidden, shot, startChat, type AppPage } from './app-helpers.js';
import { callEntries, callScreen, callStatus, incoming, MEDIA_ARGS, MEDIA_PERMISSIONS, mediaFlowing, openPeers, placeCall, RECORD_PEERS, stillFlowing } from './call-helpers.js';

/**
 * Calls in `kluis app`: real Chromium pages with fake camera and microphone, a real
 * kluis server (a child process, so its logs can be searched) behind a proxy that keeps
 * every byte, and a real coturn on loopback that relays every call.
 */
describe('calls in the kluis app: 1:1 and group, relayed through coturn, signalling end to end', () => {
  const world = new AppWorld();
  const h = world.h;
  let turn: Coturn;
  let server: ServerProcess;
  let proxy: RecordingProxy;
  let alice: AppPage;
  let bob: AppPage;
  let bob2: AppPage;
  let carol: AppPage;

  const open = (name: string) =>
    world.openApp(name, {
      permissions: MEDIA_PERMISSIONS,
      prepare: async (page) => {
        await page.addInitScript(RECORD_PEERS);
        await page.addInitScript(FAKE_DESKTOP);
        // Time flows as usual; the missed-call test moves it on by 45 s.
        await page.clock.install();
      },
    });

  beforeAll(async () => {
    turn = await startCoturn();
    server = await h.spawnServer({
      env: { KLUIS_TURN_URLS: turn.urls.join(','), KLUIS_TURN_SECRET_FILE: turn.secretFile, KLUIS_ARGON2_MEMORY_KIB: '64', KLUIS_ARGON2_ITERATIONS: '1', KLUIS_LOG_LEVEL: 'debug' },
    });
    proxy = await RecordingProxy.start({ targetPort: server.port });
    // Everything the apps say to the server passes the proxy: what a tap on its port sees.
    await world.start(MEDIA_ARGS, { url: proxy.url, dataDir: server.dataDir, operatorToken: server.operatorToken, mintInvites: server.mintInvites });
    const invites = await server.mintInvites(3);
    [alice, bob, carol] = await Promise.all([open('alice'), open('bob'), open('carol')]);
    await Promise.all([world.register(alice, invites[0]!), world.register(bob, invites[1]!), world.register(carol, invites[2]!)]);
    bob2 = await open('bob-laptop');
    await world.link(bob, bob2).catch(async (e: unknown) => {
      await world.showFailures();
      throw e;
    });
    await bob.page.getByTestId('devices').getByRole('listitem').nth(1).waitFor();
    await startChat(alice.page, 'bob');
    await alice.page.getByLabel('Message', { exact: true }).fill('call you in a minute');
    await alice.page.getByLabel('Message', { exact: true }).press('Enter');
    await conv(bob.page, /^alice/).waitFor();
    await conv(bob2.page, /^alice/).waitFor();
  }, 240_000);

  afterAll(async () => {
    await world.stop();
    await proxy?.close();
    await turn?.stop();
  });

  it('a video call rings both of bob’s devices, is answered on one, relays media through coturn, mutes, survives switching conversations and logs its duration on every device', async () => {
    onTestFailed(() => world.showFailures());
    const started = Date.now();
    await placeCall(alice, /^bob/, 'Video call');
    await callStatus(alice.page).getByText('Calling…').waitFor();
    // Both of bob's devices ring.
    await incoming(bob.page).getByText('alice is video calling you').waitFor();
    await incoming(bob2.page).getByText('alice is video calling you').waitFor();
    await shot(bob.page, 'call-incoming');
    await bob2.page.setViewportSize(PHONE);
    await shot(bob2.page, 'call-incoming-phone');
    await incoming(bob.page).getByRole('button', { name: 'Accept with video' }).click();
    // The other device stops ringing.
    await incoming(bob2.page).waitFor({ state: 'detached' });
    await bob2.page.setViewportSize(DESKTOP);

    const [aliceLinks, bobLinks] = await Promise.all([mediaFlowing(alice.page, 1, true), mediaFlowing(bob.page, 1, true)]);
    const setupMs = Date.now() - started;
    for (const s of [...aliceLinks, ...bobLinks]) {
      // Relayed by the test's coturn: a relay candidate on its port range, allocated from its listening port.
      expect(s.local?.type).toBe('relay');
      expect(s.local!.url).toContain(`:${turn.port}`);
      expect(s.local!.port).toBeGreaterThanOrEqual(turn.minPort);
      expect(s.local!.port).toBeLessThanOrEqual(turn.maxPort);
    }
    await callStatus(alice.page).getByText(/^0:\d\d/).waitFor();
    await callScreen(alice.page).getByTestId('call-relay').getByText('Relayed: your IP address stays hidden').waitFor();
    await stillFlowing(alice.page, true);
    await stillFlowing(bob.page, true);
    console.log(`[calls] 1:1 video call set up (click to media both ways, relayed) in ${setupMs} ms`);
    await shot(alice.page, 'call-video');
    await bob.page.setViewportSize(PHONE);
    await shot(bob.page, 'call-video-phone');
    await bob.page.setViewportSize(DESKTOP);

    // Mute: alice's outbound audio packets stop, and bob hears nothing more; unmute resumes.
    await callScreen(alice.page).getByRole('button', { name: 'Mute' }).click();
    await alice.page.waitForTimeout(500);
    const [a1] = await openPeers(alice.page);
    const [b1] = await openPeers(bob.page);
    await alice.page.waitForTimeout(1500);
    const [a2] = await openPeers(alice.page);
    const [b2] = await openPeers(bob.page);
    expect(a2!.outAudioPackets).toBe(a1!.outAudioPackets);
    expect(b2!.inAudioPackets - b1!.inAudioPackets).toBeLessThanOrEqual(2);
    expect(a2!.outVideoPackets).toBeGreaterThan(a1!.outVideoPackets);
    await callScreen(alice.page).getByRole('button', { name: 'Unmute' }).click();
    await poll(async () => (await openPeers(alice.page))[0]!.outAudioPackets > a2!.outAudioPackets).toBe(true);

    // Choosing another camera mid-call: the new track goes out without renegotiating.
    await callScreen(alice.page).getByRole('button', { name: 'Microphone and camera' }).click();
    const picker = alice.page.getByRole('dialog', { name: 'Microphone and camera' });
    await picker.getByLabel('Camera').locator('option').first().waitFor({ state: 'attached' });
    const cameras = await picker.getByLabel('Camera').locator('option').allTextContents();
    expect(cameras.length).toBeGreaterThan(0);
    expect((await picker.getByLabel('Microphone').locator('option').allTextContents()).length).toBeGreaterThan(0);
    await picker.getByLabel('Camera').selectOption({ index: cameras.length - 1 });
    await picker.getByRole('button', { name: 'Close' }).click();
    await stillFlowing(bob.page, true);

    // Screen sharing replaces the camera on the same sender, and back.
    const before = (await openPeers(alice.page))[0]!.outVideoPackets;
    await callScreen(alice.page).getByRole('button', { name: 'Share your screen' }).click();
    await callScreen(alice.page).getByRole('button', { name: 'Stop sharing' }).waitFor();
    await poll(async () => (await openPeers(alice.page))[0]!.outVideoPackets > before).toBe(true);
    await stillFlowing(bob.page, true);
    await callScreen(alice.page).getByRole('button', { name: 'Stop sharing' }).click();
    await callScreen(alice.page).getByRole('button', { name: 'Share your screen' }).waitFor();

    // The call goes on while alice reads another conversation.
    await callScreen(alice.page).getByRole('button', { name: 'Back to chats' }).click();
    await alice.page.getByTestId('call-bar').waitFor();
    await startChat(alice.page, 'carol');
    await stillFlowing(bob.page, true);
    await alice.page.getByTestId('call-bar').getByRole('button', { name: 'Return to call' }).click();

    await alice.page.waitForTimeout(1000);
    await callScreen(alice.page).getByRole('button', { name: 'Hang up' }).click();
    await callScreen(bob.page).waitFor({ state: 'detached', timeout: 10_000 });
    await callScreen(alice.page).waitFor({ state: 'detached', timeout: 10_000 });
    expect((await openPeers(alice.page)).length).toBe(0);
    expect((await openPeers(bob.page)).length).toBe(0);

    // One entry per device, with the talk time.
    await conv(alice.page, /^bob/).click();
    await poll(() => callEntries(alice.page)).toEqual([expect.stringMatching(/^Outgoing video call, 0:\d\d$/)]);
    await conv(bob.page, /^alice/).click();
    await poll(() => callEntries(bob.page)).toEqual([expect.stringMatching(/^Incoming video call, 0:\d\d$/)]);
    await conv(bob2.page, /^alice/).click();
    await poll(() => callEntries(bob2.page)).toEqual([expect.stringMatching(/^Incoming video call, 0:\d\d$/)]);
  });

  it('declined, busy, cancelled while ringing, and missed after 45 s on the page clock', async () => {
    onTestFailed(() => world.showFailures());
    // Declined on bob's laptop: his other device stops ringing, alice hears it. The laptop's
    // tab is in the background and notifies, without saying more than the setting allows.
    await openPane(bob2.page, 'Account', 'Account');
    await bob2.page.getByLabel('Desktop notifications').selectOption({ label: 'On, without the message text' });
    // Relaying every call is the default.
    expect(await bob2.page.getByLabel('Relay all calls').isChecked()).toBe(true);
    await setHidden(bob2.page, true);
    await placeCall(alice, /^bob/, 'Voice call');
    await incoming(bob.page).getByText('alice is calling you').waitFor();
    await poll(async () => (await notes(bob2.page)).filter((n) => n.title.includes('call'))).toEqual([
      { title: 'Incoming call from alice', body: 'Open kluis to answer.', tag: 'kluis-call' },
    ]);
    await setHidden(bob2.page, false);
    await incoming(bob2.page).getByRole('button', { name: 'Decline' }).click();
    await incoming(bob.page).waitFor({ state: 'detached' });
    await callStatus(alice.page).getByText('bob declined the call').waitFor();
    await callScreen(alice.page).waitFor({ state: 'detached', timeout: 10_000 });

    // Busy: bob is in a call with carol; alice's call gets "busy" and bob's idle laptop stops ringing.
    // carol's first contact with bob: a call from a new chat, before any message.
    await startChat(carol.page, 'bob');
    await carol.page.getByRole('button', { name: 'Voice call', exact: true }).click();
    await incoming(bob.page).getByRole('button', { name: 'Accept' }).click();
    await mediaFlowing(bob.page, 1, false);
    await placeCall(alice, /^bob/, 'Voice call');
    await callStatus(alice.page).getByText('bob is in another call').waitFor();
    await incoming(bob2.page).waitFor({ state: 'detached' });
    await callScreen(carol.page).getByRole('button', { name: 'Hang up' }).click();
    await callScreen(bob.page).waitFor({ state: 'detached', timeout: 10_000 });
    await callScreen(alice.page).waitFor({ state: 'detached', timeout: 10_000 });

    // alice hangs up while it rings: both devices stop ringing, the call is missed.
    await placeCall(alice, /^bob/, 'Voice call');
    await incoming(bob.page).waitFor();
    await incoming(bob2.page).waitFor();
    await callScreen(alice.page).getByRole('button', { name: 'Hang up' }).click();
    await incoming(bob.page).waitFor({ state: 'detached' });
    await incoming(bob2.page).waitFor({ state: 'detached' });
    await callScreen(alice.page).waitFor({ state: 'detached', timeout: 10_000 });

    // Nobody answers: 45 s later (on each page's clock) alice stops calling and bob's devices stop ringing.
    await placeCall(alice, /^bob/, 'Voice call');
    await incoming(bob.page).waitFor();
    await incoming(bob2.page).waitFor();
    await Promise.all([alice, bob, bob2].map((a) => a.page.clock.fastForward(46_000)));
    await callStatus(alice.page).getByText('No answer').waitFor();
    await incoming(bob.page).waitFor({ state: 'detached' });
    await incoming(bob2.page).waitFor({ state: 'detached' });

    await conv(alice.page, /^bob/).click();
    await poll(async () => (await callEntries(alice.page)).slice(1)).toEqual([
      'Outgoing voice call, declined',
      'Outgoing voice call, busy',
      'Outgoing voice call, not answered',
      'Outgoing voice call, not answered',
    ]);
    for (const b of [bob, bob2]) {
      await conv(b.page, /^alice/).click();
      await poll(async () => (await callEntries(b.page)).slice(1)).toEqual(['Declined voice call', 'Missed voice call', 'Missed voice call', 'Missed voice call']);
    }
    await conv(carol.page, /^bob/).click();
    await poll(() => callEntries(carol.page)).toEqual([expect.stringMatching(/^Outgoing voice call, 0:\d\d$/)]);
  });

  it('a group call of three: everyone decodes everyone, one leaves, the rest go on and the leaver gets nothing more', async () => {
    onTestFailed(() => world.showFailures());
    await openPane(alice.page, 'New group', 'New group');
    await alice.page.getByLabel('Group name').fill('Call club');
    await alice.page.getByLabel('Members').fill('bob, carol');
    await alice.page.getByRole('button', { name: 'Create group' }).click();
    await alice.page.getByRole('heading', { level: 1, name: 'Call club' }).waitFor();
    await conv(bob.page, /^Call club/).waitFor();
    await conv(carol.page, /^Call club/).waitFor();

    // carol reads kluis in Dutch.
    await openPane(carol.page, 'Account', 'Account');
    await carol.page.getByLabel('Language').first().selectOption('nl');
    await alice.page.getByRole('button', { name: 'Video call', exact: true }).click();
    await callStatus(alice.page).getByText('Waiting for others to join…').waitFor();
    await incoming(bob.page).getByText('alice started a group call in Call club').waitFor();
    await incoming(carol.page).getByText('alice is een groepsgesprek begonnen in Call club').waitFor();
    await incoming(bob.page).getByRole('button', { name: 'Accept with video' }).click();
    await incoming(bob2.page).waitFor({ state: 'detached' });
    await mediaFlowing(bob.page, 1, true);
    await shot(carol.page, 'call-incoming-group-nl');
    await incoming(carol.page).getByRole('button', { name: 'Opnemen met video' }).click();
    for (const a of [alice, bob, carol]) {
      const links = await mediaFlowing(a.page, 2, true);
      for (const s of links) expect(s.local?.type).toBe('relay');
    }
    await shot(alice.page, 'call-group');
    await carol.page.setViewportSize(PHONE);
    await shot(carol.page, 'call-group-phone-nl');
    await carol.page.setViewportSize(DESKTOP);

    // carol leaves: her links close on every side; alice and bob go on with each other.
    await callScreen(carol.page).getByRole('button', { name: 'Ophangen' }).click();
    await callScreen(carol.page).waitFor({ state: 'detached', timeout: 10_000 });
    expect((await openPeers(carol.page)).length).toBe(0);
    await poll(async () => (await openPeers(alice.page)).length).toBe(1);
    await poll(async () => (await openPeers(bob.page)).length).toBe(1);
    await stillFlowing(alice.page, true);
    await stillFlowing(bob.page, true);
    // The call is still on in the group: carol joins again from its header.
    await conv(carol.page, /^Call club/).click();
    await carol.page.getByRole('button', { name: 'Deelnemen' }).click();
    for (const a of [alice, bob, carol]) await mediaFlowing(a.page, 2, true);
    await callScreen(carol.page).getByRole('button', { name: 'Ophangen' }).click();
    await poll(async () => (await openPeers(alice.page)).length).toBe(1);
    await callScreen(bob.page).getByRole('button', { name: 'Hang up' }).click();
    await callScreen(alice.page).getByRole('button', { name: 'Hang up' }).click();
    await callScreen(alice.page).waitFor({ state: 'detached', timeout: 10_000 });
  });

  it('the seizure drill after the calls: no SDP, ICE candidate, relay address or DTLS fingerprint in the server’s data, logs or traffic', async () => {
    onTestFailed(() => world.showFailures());
    const produced: string[] = [];
    for (const a of [alice, bob, bob2, carol]) produced.push(...((await a.page.evaluate('window.__sdp')) as string[]));
    const fingerprints = new Set<string>();
    const candidates = new Set<string>();
    for (const text of produced) {
      for (const m of text.matchAll(/a=fingerprint:sha-256 ([0-9A-F:]{95})/g)) fingerprints.add(m[1]!);
      for (const m of text.matchAll(/a=ice-ufrag:(\S+)/g)) candidates.add(`ice-ufrag:${m[1]}`);
      for (const m of text.matchAll(/candidate:\S+ \d \S+ \d+ (\S+ \d+) typ (\w+)/g)) candidates.add(`${m[1]} typ ${m[2]}`);
    }
    expect(fingerprints.size).toBeGreaterThanOrEqual(2);
    expect([...candidates].some((c) => c.includes('typ relay'))).toBe(true);
    const needles: Array<[string, Buffer]> = [
      ['SDP header', Buffer.from('v=0\r\no=')],
      ['a=fingerprint', Buffer.from('a=fingerprint')],
      ['typ relay', Buffer.from('typ relay')],
      ...[...fingerprints].flatMap((f): Array<[string, Buffer]> => [
        [`fingerprint ${f.slice(0, 11)}… (text)`, Buffer.from(f)],
        [`fingerprint ${f.slice(0, 11)}… (bytes)`, Buffer.from(f.replaceAll(':', ''), 'hex')],
      ]),
      ...[...candidates].map((c): [string, Buffer] => [c, Buffer.from(c)]),
    ];
    const haystacks: Array<[string, Buffer]> = [];
    for (const f of await readdir(server.dataDir, { recursive: true, withFileTypes: true })) {
      if (f.isFile()) haystacks.push([`data: ${f.name}`, await readFile(join(f.parentPath, f.name))]);
    }
    haystacks.push(['server stdout+stderr', Buffer.from(server.process.stdout + server.process.stderr)]);
    for (const c of proxy.connections()) haystacks.push([`traffic #${c.id}`, Buffer.concat([c.toServer, c.fromServer])]);
    expect(haystacks.length).toBeGreaterThan(3);
    const found = needles.flatMap(([what, bytes]) => haystacks.filter(([, hay]) => hay.includes(bytes)).map(([where]) => `${what} in ${where}`));
    expect(found).toEqual([]);
  });
});
