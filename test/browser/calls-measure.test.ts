import { readdirSync, readFileSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, it, onTestFailed } from 'vitest';
import { startCoturn, type Coturn } from '../harness/index.js';
import { AppWorld, conv, openPane, OUT, startChat, type AppPage } from './app-helpers.js';
import { callScreen, incoming, MEDIA_ARGS, MEDIA_PERMISSIONS, mediaFlowing, openPeers, RECORD_PEERS } from './call-helpers.js';

/**
 * `npm run bench:calls`: what issue 14 asks to measure, in Debian's Chromium on this
 * machine. Prints figures (and writes test-output/calls-measure.json); asserts nothing
 * about time. Skipped unless KLUIS_MEASURE_CALLS=1, so the browser suite stays quick.
 * - 1:1 setup, click on "Video call" to media decoded on both sides, 10 relayed calls
 *   against 10 with relaying off (direct) in the same run, as a ratio;
 * - the relayed bitrate of a 1:1 video call;
 * - group mesh calls at 4 and 8: Chromium CPU per participant, upstream per participant,
 *   time for the last one to join.
 */
const RUN = process.env.KLUIS_MEASURE_CALLS === '1';
const CALLS = Number(process.env.KLUIS_MEASURE_CALLS_N ?? 10);
const GROUP_SIZES = (process.env.KLUIS_MEASURE_GROUPS ?? '4,8').split(',').map(Number);
const WINDOW_MS = 10_000;
const TICKS = 100;

/** CPU seconds used so far by every Chromium process on the machine (only this run's browser runs). */
function chromiumCpuSeconds(): number {
  let total = 0;
  for (const pid of readdirSync('/proc').filter((d) => /^\d+$/.test(d))) {
    try {
      const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
      const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
      if (!/chrom/i.test(comm)) continue;
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(f[11]) + Number(f[12])) / TICKS;
    } catch {
      /* gone */
    }
  }
  return total;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
const setRelayAll = (a: AppPage, on: boolean) => a.page.evaluate(`localStorage.setItem('kluis.app.relayAllCalls', '${on ? 'on' : 'off'}')`);
const outBytes = async (a: AppPage) => (await openPeers(a.page)).reduce((n, s) => n + s.outBytes, 0);

describe.runIf(RUN)('measure calls (issue 14)', () => {
  const world = new AppWorld();
  let turn: Coturn;
  const figures: Record<string, unknown> = {};
  const open = (name: string) => world.openApp(name, { permissions: MEDIA_PERMISSIONS, prepare: async (page) => void (await page.addInitScript(RECORD_PEERS)) });

  beforeAll(async () => {
    turn = await startCoturn();
    // The in-process server, with the relay given as config.
    await world.start(MEDIA_ARGS, await world.h.startServer({ argon2MemoryKib: 64, argon2Iterations: 1, turnUrls: turn.urls, turnSecret: turn.secret }));
  }, 120_000);
  afterAll(async () => {
    await writeFile(join(OUT, '..', 'calls-measure.json'), JSON.stringify(figures, null, 2));
    await world.stop();
    await turn?.stop();
  });

  async function oneCall(caller: AppPage, callee: AppPage): Promise<number> {
    const t0 = Date.now();
    await caller.page.getByRole('button', { name: 'Video call', exact: true }).click();
    await incoming(callee.page).getByRole('button', { name: 'Accept with video' }).click();
    await Promise.all([mediaFlowing(caller.page, 1, true), mediaFlowing(callee.page, 1, true)]);
    const ms = Date.now() - t0;
    return ms;
  }

  async function hangUp(a: AppPage, others: AppPage[]): Promise<void> {
    await callScreen(a.page).getByRole('button', { name: 'Hang up' }).click();
    for (const o of [a, ...others]) await callScreen(o.page).waitFor({ state: 'detached', timeout: 15_000 });
  }

  it('1:1: setup time relayed against direct, and the relayed bitrate', async () => {
    onTestFailed(() => world.showFailures());
    const [alice, bob] = await Promise.all([open('alice'), open('bob')]);
    const invites = await world.server.mintInvites(2);
    await Promise.all([world.register(alice, invites[0]!), world.register(bob, invites[1]!)]);
    await startChat(alice.page, 'bob');
    const times: Record<'relayed' | 'direct', number[]> = { relayed: [], direct: [] };
    // Interleaved, so drift on this machine falls on both alike.
    for (let i = 0; i < CALLS; i++) {
      for (const mode of ['relayed', 'direct'] as const) {
        await setRelayAll(alice, mode === 'relayed');
        await setRelayAll(bob, mode === 'relayed');
        times[mode].push(await oneCall(alice, bob));
        if (mode === 'relayed' && i === 0) {
          // The bitrate of a relayed video call over a steady window.
          await alice.page.waitForTimeout(3000);
          const b0 = await outBytes(alice);
          await alice.page.waitForTimeout(WINDOW_MS);
          const kbps = ((await outBytes(alice)) - b0) * 8 / (WINDOW_MS / 1000) / 1000;
          figures.relayedKbpsUpstream = Math.round(kbps);
          console.log(`[calls] 1:1 relayed video call: ${Math.round(kbps)} kbit/s upstream per side`);
        }
        await hangUp(alice, [bob]);
      }
    }
    for (const mode of ['relayed', 'direct'] as const) {
      const xs = times[mode];
      figures[`setup_${mode}`] = { median: median(xs), max: Math.max(...xs), runs: xs };
      console.log(`[calls] 1:1 video setup ${mode}: median ${median(xs)} ms, max ${Math.max(...xs)} ms over ${xs.length} calls`);
    }
    console.log(`[calls] relayed/direct setup ratio (medians): ${(median(times.relayed) / median(times.direct)).toFixed(2)}`);
    figures.setupRatio = median(times.relayed) / median(times.direct);
  }, 900_000);

  for (const size of GROUP_SIZES) {
    it(`a group mesh call of ${size}: CPU and upstream per participant, time to join`, async () => {
      onTestFailed(() => world.showFailures());
      const names = Array.from({ length: size }, (_, i) => `g${size}m${i}`);
      const apps = await Promise.all(names.map(open));
      const invites = await world.server.mintInvites(size);
      await Promise.all(apps.map((a, i) => world.register(a, invites[i]!)));
      const [host, ...rest] = apps;
      await openPane(host!.page, 'New group', 'New group');
      await host!.page.getByLabel('Group name').fill(`Mesh ${size}`);
      await host!.page.getByLabel('Members').fill(names.slice(1).join(', '));
      await host!.page.getByRole('button', { name: 'Create group' }).click();
      await host!.page.getByRole('heading', { level: 1, name: `Mesh ${size}` }).waitFor();
      for (const a of rest) await conv(a.page, new RegExp(`^Mesh ${size}`)).waitFor({ timeout: 60_000 });
      await host!.page.getByRole('button', { name: 'Video call', exact: true }).click();
      // Everyone lets it ring out, then joins one after another from the group's "Join call".
      for (const a of rest) await incoming(a.page).getByRole('button', { name: 'Decline' }).click({ timeout: 60_000 });
      const joins: number[] = [];
      for (const [i, a] of rest.entries()) {
        await conv(a.page, new RegExp(`^Mesh ${size}`)).click();
        const t0 = Date.now();
        await a.page.getByRole('button', { name: 'Join call' }).click();
        // A mesh that cannot carry one more is a figure too: the join's time is then "never".
        const ok = await mediaFlowing(a.page, i + 1, true, 90_000).then(() => true, () => false);
        joins.push(ok ? Date.now() - t0 : Infinity);
      }
      await host!.page.waitForTimeout(3000);
      const cpu0 = chromiumCpuSeconds();
      const up0 = await Promise.all(apps.map(outBytes));
      const t0 = Date.now();
      await host!.page.waitForTimeout(WINDOW_MS);
      const seconds = (Date.now() - t0) / 1000;
      const cpu = (chromiumCpuSeconds() - cpu0) / seconds;
      const up = (await Promise.all(apps.map(outBytes))).map((b, i) => ((b - up0[i]!) * 8) / seconds / 1000);
      const links = await Promise.all(apps.map((a) => openPeers(a.page)));
      const decoding = links.map((l) => l.filter((s) => s.state === 'connected' && s.framesDecoded > 0).length);
      const states = links.flat().reduce<Record<string, number>>((m, s) => ({ ...m, [s.state]: (m[s.state] ?? 0) + 1 }), {});
      const f = {
        participants: size,
        chromiumCoresInAll: Number(cpu.toFixed(2)),
        cpuPercentOfOneCorePerParticipant: Math.round((cpu / size) * 100),
        upstreamKbpsPerParticipant: Math.round(median(up)),
        joinMsMedian: median(joins),
        joinMsLast: joins.at(-1),
        joinsMs: joins,
        everyoneDecodesEveryone: decoding.every((n) => n === size - 1),
        linksDecodingPerParticipant: decoding,
        linkStates: states,
      };
      figures[`group_${size}`] = f;
      console.log(`[calls] mesh of ${size}: ${JSON.stringify(f)}`);
      for (const a of apps) await callScreen(a.page).getByRole('button', { name: 'Hang up' }).click({ timeout: 5000 }).catch(() => {});
      for (const a of apps) await a.context.close();
    }, 900_000);
  }
});
