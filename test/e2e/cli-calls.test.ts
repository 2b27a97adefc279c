/**
 * `kluis calls`: a call signalled (by an SDK client, as the app does) while the callee's CLI
 * profile is offline shows up in its call history, as JSON and as one plain line.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { cliInProcess } from '../harness/cli-in-process.js';
import { Harness } from '../harness/index.js';
import { connectedUser } from '../harness/sdk-helpers.js';


describe('kluis calls', () => {
  const h = new Harness();
  afterAll(() => h.dispose());

  it('has --help and rejects a bad --limit with exit code 2', async () => {
    const help = await cliInProcess(['calls', '--help']);
    expect(help.code).toBe(0);
    expect(help.stdout).toContain('Usage: kluis calls');
    for (const bad of ['0', '1001', 'many', '2.5']) {
      const r = await cliInProcess(['calls', '--limit', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toContain(`--limit takes a number from 1 to 1000, not "${bad}"`);
    }
  });

  it('lists a call missed while offline, as JSON and as a line', async () => {
    const server = await h.startServer();
    const env = await h.cliEnv({ KLUIS_SERVER: server.url });
    const run = async (args: string[]) => {
      const r = await h.cli(['--profile', 'bob', ...args], env);
      expect(r.code, `kluis ${args.join(' ')}\n${r.stderr}`).toBe(0);
      return r;
    };
    const [invite] = await server.mintInvites(1);
    await run(['register', '--server', server.url, '--invite', invite!, '--username', 'bob']);

    const before = await run(['calls']);
    expect(before.stdout).toBe('');
    expect(before.stderr).toContain('no calls yet');

    // alice calls and gives up before bob's device is even online: both signals wait on the server.
    const alice = await connectedUser(h, server, 'alice');
    const callId = randomUUID();
    await alice.calls.signal('bob', { type: 'offer', callId, media: 'video', sdp: 'v=0 fake' });
    await alice.calls.signal('bob', { type: 'hangup', callId, reason: 'normal' });

    const json = (await run(['calls', '--json'])).stdout.trim().split('\n').filter(Boolean).map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(json).toHaveLength(1);
    expect(Object.keys(json[0]!).sort()).toEqual(['at', 'by', 'conversation', 'direction', 'group', 'id', 'media', 'outcome', 'seconds']);
    expect(json[0]).toEqual({
      id: callId,
      conversation: 'alice',
      direction: 'incoming',
      media: 'video',
      outcome: 'missed',
      seconds: 0,
      by: 'alice',
      at: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      group: false,
    });
    expect(Math.abs(Date.parse(json[0]!.at as string) - Date.now())).toBeLessThan(5 * 60_000);

    const plain = await run(['calls']);
    const out = plain.stdout.trim().split('\n');
    expect(out).toHaveLength(1);
    expect(out[0]).toMatch(/^\d{4}-\d\d-\d\d \d\d:\d\d  ↙ incoming video  alice  missed$/);
  });
});
