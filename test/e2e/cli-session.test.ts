import { afterAll, describe, expect, it } from 'vitest';
import { Harness } from '../harness/index.js';
import { findPlaintexts } from './plaintext-scan.js';

/**
 * The README's session, typed as a new user would: a real `kluis server` process and
 * real `kluis` CLI processes for two users, one of whom links a second device.
 */
describe('a complete CLI session', () => {
  const h = new Harness();
  afterAll(() => h.dispose());

  it('registers, chats both ways, links and removes a device, and leaves no plaintext on the server', async () => {
    const server = await h.spawnServer();
    const firstInvite = (await server.process.waitFor(/^invite: (\S+)$/m))[1]!;
    expect(server.process.stdout).toMatch(/^operator-token-file: .*operator-token$/m);
    const env = await h.cliEnv({ KLUIS_SERVER: server.url });
    const run = async (args: string[]) => {
      const r = await h.cli(args, env);
      expect(r.code, `kluis ${args.join(' ')}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };

    const minted = await run(['admin', 'invite', 'create', '--data', server.dataDir, '--server', server.url, '--count', '2']);
    const [bobInvite] = minted.trim().split('\n');
    expect(bobInvite).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{1,4})+$/);

    expect(await run(['--profile', 'alice', 'register', '--server', server.url, '--invite', firstInvite, '--username', 'alice'])).toMatch(/registered alice/);
    expect(await run(['--profile', 'bob', 'register', '--server', server.url, '--invite', bobInvite!, '--username', 'Bob'])).toMatch(/registered bob/);

    const plaintexts = ['hello bob, this is alice', 'hi alice, bob here', 'for both of your devices', 'sent from the laptop', 'after removal'];
    await run(['--profile', 'alice', 'send', 'bob', plaintexts[0]!]);
    const bobGot = (await run(['--profile', 'bob', 'receive', '--json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(bobGot).toEqual([expect.objectContaining({ from: 'alice', device: 1, text: plaintexts[0] })]);

    await run(['--profile', 'bob', 'send', 'alice', plaintexts[1]!]);
    expect(await run(['--profile', 'alice', 'receive'])).toContain(`bob: ${plaintexts[1]}`);

    // Link a second device for alice: the primary shows a code, the new device redeems it.
    const primary = h.spawnCli(['--profile', 'alice', 'link', '--yes'], env);
    const code = (await primary.waitFor(/^link code: (\S+)$/m))[1]!;
    const laptop = await run(['--profile', 'alice-laptop', 'link', '--code', code, '--server', server.url]);
    const primaryDone = await primary.wait();
    expect(primaryDone.code, primaryDone.stderr).toBe(0);
    expect(primaryDone.stdout).toMatch(/linked device 2/);
    const verification = laptop.match(/verification: ([\d ]+)/)![1];
    expect(primaryDone.stdout).toContain(`verification: ${verification}`);

    const devices = JSON.parse(await run(['--profile', 'alice', 'devices', '--json']));
    expect(devices.map((d: { deviceId: number }) => d.deviceId)).toEqual([1, 2]);

    await run(['--profile', 'bob', 'send', 'alice', plaintexts[2]!]);
    await run(['--profile', 'alice-laptop', 'send', 'bob', plaintexts[3]!]);
    const onLaptop = (await run(['--profile', 'alice-laptop', 'receive', '--json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(onLaptop).toEqual([expect.objectContaining({ from: 'bob', text: plaintexts[2] })]);
    const onPhone = (await run(['--profile', 'alice', 'receive', '--json'])).trim().split('\n').map((l) => JSON.parse(l));
    expect(onPhone).toEqual([
      expect.objectContaining({ from: 'bob', text: plaintexts[2] }),
      expect.objectContaining({ from: 'alice', device: 2, text: plaintexts[3], sync: true }),
    ]);
    expect((await run(['--profile', 'bob', 'receive', '--json'])).trim().split('\n').map((l) => JSON.parse(l))).toEqual([
      expect.objectContaining({ from: 'alice', device: 2, text: plaintexts[3] }),
    ]);

    // Safety numbers agree on both sides.
    const aliceView = JSON.parse(await run(['--profile', 'alice', 'safety-number', 'bob', '--json'])).safetyNumber;
    const bobView = JSON.parse(await run(['--profile', 'bob', 'safety-number', 'alice', '--json'])).safetyNumber;
    expect(aliceView).toMatch(/^\d{60}$/);
    expect(aliceView).toBe(bobView);

    // Removing the laptop stops delivery to it.
    await run(['--profile', 'alice', 'devices', 'remove', '2']);
    await run(['--profile', 'bob', 'send', 'alice', plaintexts[4]!]);
    const removed = await h.cli(['--profile', 'alice-laptop', 'receive', '--json'], env);
    expect(removed.code).not.toBe(0);
    expect(removed.stdout).not.toContain(plaintexts[4]);
    expect(await run(['--profile', 'alice', 'receive'])).toContain(plaintexts[4]);

    // SIGTERM: a clean exit, then nothing readable in what the server leaves on disk.
    server.process.kill('SIGTERM');
    expect((await server.process.wait()).code).toBe(0);
    expect(await findPlaintexts(server.dataDir, plaintexts)).toEqual([]);
    // ~25 CLI processes, each loading libsignal: over a minute on a 2-core machine.
  }, 180_000);
});
