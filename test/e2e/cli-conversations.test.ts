import { randomBytes } from 'node:crypto';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { cliInProcess } from '../harness/cli-in-process.js';
import { Harness } from '../harness/index.js';

type Json = Record<string, any>;


const lines = (out: string): Json[] =>
  out
    .trim()
    .split('\n')
    .filter(Boolean)
    .map((l) => JSON.parse(l) as Json);

const texts = (history: Json[]) =>
  history
    .filter((m) => !m.kind)
    .map((m) => m.text)
    .sort();

describe('the conversation CLI', () => {
  const h = new Harness();
  afterAll(() => h.dispose());

  it('has --help for every conversation command', async () => {
    const commands = [
      ['group'],
      ['group', 'create'],
      ['group', 'list'],
      ['group', 'info'],
      ['group', 'add'],
      ['group', 'remove'],
      ['group', 'leave'],
      ['group', 'promote'],
      ['group', 'rename'],
      ['send'],
      ['receive'],
      ['chat'],
      ['react'],
      ['edit'],
      ['delete'],
      ['timer'],
      ['history'],
      ['download'],
      ['conversations'],
      ['read'],
      ['block'],
      ['unblock'],
      ['settings'],
      ['profile'],
      ['profile', 'set'],
      ['profile', 'show'],
    ];
    for (const c of commands) {
      const r = await cliInProcess([...c, '--help']);
      expect(r.code, c.join(' ')).toBe(0);
      expect(r.stdout, c.join(' ')).toContain(`Usage: kluis ${c.join(' ')}`);
    }
  });

  it('rejects bad input with exit code 2 and says what would work', async () => {
    for (const bad of ['10s', '5w', 'soon', '1.5h', '0s']) {
      const r = await cliInProcess(['timer', 'bob', bad]);
      expect(r.code, bad).toBe(2);
      expect(r.stderr, bad).toMatch(/off, or a number with s\/m\/h\/d\/w from 30s to 4w/);
    }
    expect((await cliInProcess(['react', 'abcdef12', 'ok'])).code).toBe(2);
    expect((await cliInProcess(['send', 'bob'])).stderr).toMatch(/nothing to send/);
    expect((await cliInProcess(['settings', '--read-receipts', 'maybe'])).code).toBe(2);
    expect((await cliInProcess(['group', 'create', 'x', '--members', 'not a/user'])).code).toBe(2);
  });

  // 23 CLI processes in 9 rounds; each loads tsx, the SDK and libsignal (seconds apiece): about a
  // minute on an idle 2-core machine, two with other suites running beside it.
  it('runs a group, a file, reactions, edits and deletes between three real CLI users', async () => {
    const server = await h.startServer();
    const env = await h.cliEnv({ KLUIS_SERVER: server.url });
    const files = await h.tempDir('files');
    const downloads = await h.tempDir('downloads');
    const run = async (who: string, args: string[]) => {
      const r = await h.cli(['--profile', who, ...args], env);
      expect(r.code, `${who}: kluis ${args.join(' ')}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const invites = await server.mintInvites(3);
    const people = ['alice', 'bob', 'carol'] as const;
    await Promise.all(people.map((u, i) => run(u, ['register', '--server', server.url, '--invite', invites[i]!, '--username', u])));

    const [created] = await Promise.all([
      run('alice', ['group', 'create', 'Book club', '--members', 'bob,carol', '--json']).then((o) => lines(o)[0]!),
      run('carol', ['profile', 'set', '--name', 'Carol C.']),
    ]);
    expect(created.conversation).toMatch(/^g:[0-9a-f]{64}$/);
    expect(created.members.map((m: Json) => m.username).sort()).toEqual([...people]);

    // A real process for the usage error too: it comes before the profile is opened.
    const secret = randomBytes(200_000);
    await writeFile(join(files, 'notes.bin'), secret);
    const [badTimer] = await Promise.all([
      h.cli(['--profile', 'bob', 'timer', 'alice', '10s'], env),
      run('alice', ['send', '#Book club', 'hello from alice']),
    ]);
    expect(badTimer.code).toBe(2);
    expect(badTimer.stderr).toContain('30s to 4w');

    // bob names the group by title (he has to fetch it first), carol by its id.
    const [, , sentFile] = await Promise.all([
      run('bob', ['send', 'Book club', 'bob here']),
      run('carol', ['send', created.conversation, 'carol here']),
      run('alice', ['send', 'bob', '--file', join(files, 'notes.bin'), '--json', 'the notes']).then((o) => lines(o)[0]!),
    ]);
    expect(sentFile.attachments).toEqual([expect.objectContaining({ fileName: 'notes.bin', size: secret.length })]);

    // Everyone sees the same group messages; bob lists all his conversations at once.
    const [aliceView, bobAll, carolView] = await Promise.all([
      run('alice', ['history', 'Book club', '--json']).then(lines),
      run('bob', ['history', '--json']).then(lines),
      run('carol', ['history', '#book club', '--json']).then(lines),
    ]);
    const bobView = bobAll.filter((m) => m.conversation === created.conversation);
    for (const view of [aliceView, bobView, carolView]) {
      expect(texts(view)).toEqual(['bob here', 'carol here', 'hello from alice']);
      expect(view.every((m) => m.conversation === created.conversation && m.group === 'Book club')).toBe(true);
    }
    const byText = (view: Json[], text: string) => view.find((m) => m.text === text)!;
    const fileMessage = byText(bobAll, 'the notes');
    expect(fileMessage).toEqual(expect.objectContaining({ conversation: 'alice', from: 'alice' }));
    expect(fileMessage.attachments).toEqual([expect.objectContaining({ index: 0, fileName: 'notes.bin', size: secret.length })]);

    // bob reacts to alice's message, alice edits it, carol replies to bob: all at once.
    await Promise.all([
      run('bob', ['react', byText(bobView, 'hello from alice').id.slice(0, 8), '👍']),
      run('alice', ['edit', byText(aliceView, 'hello from alice').id.slice(0, 8), 'hello from alice, edited']),
      run('carol', ['send', '#Book club', '--reply-to', byText(carolView, 'bob here').id, 'replying to bob']),
    ]);

    // The file, into a directory (the sender's file name is kept); the others look.
    const [saved, carolAfter, carolProfile] = await Promise.all([
      run('bob', ['download', fileMessage.id.slice(0, 10), downloads, '--json']).then((o) => lines(o)[0]!),
      run('carol', ['history', 'Book club', '--json']).then(lines),
      run('alice', ['profile', 'show', 'carol', '--json']).then((o) => lines(o)[0]!),
    ]);
    expect(saved.path).toBe(join(downloads, 'notes.bin'));
    expect(Buffer.compare(await readFile(saved.path), secret)).toBe(0);
    const edited = byText(carolAfter, 'hello from alice, edited');
    expect(edited.editedAt).toBeGreaterThan(0);
    expect(edited.edits).toEqual([expect.objectContaining({ text: 'hello from alice' })]);
    expect(edited.reactions).toEqual([{ from: 'bob', emoji: '👍' }]);
    expect(byText(carolAfter, 'replying to bob').replyTo).toEqual(
      expect.objectContaining({ id: byText(carolView, 'bob here').id, from: 'bob', text: 'bob here' }),
    );
    expect(carolProfile).toEqual({ username: 'carol', name: 'Carol C.', avatarBytes: 0 });

    // alice deletes the file message for everyone: bob's copy loses text and file.
    await run('alice', ['delete', sentFile.id]);
    const [bobAfter, aliceList] = await Promise.all([
      run('bob', ['history', 'alice', '--json']).then(lines),
      run('alice', ['conversations', '--json']).then((o) => lines(o)[0] as unknown as Json[]),
    ]);
    const gone = bobAfter.find((m) => m.id === fileMessage.id)!;
    expect(gone).toEqual(expect.objectContaining({ deleted: true, text: '' }));
    expect(gone.attachments).toBeUndefined();
    // alice read the group when she showed it; carol's reply came after.
    expect(aliceList.find((c) => c.id === created.conversation)).toEqual(
      expect.objectContaining({ kind: 'group', title: 'Book club', unread: 1 }),
    );
    expect(aliceList.find((c) => c.id === 'bob')).toEqual(expect.objectContaining({ kind: 'direct', unread: 0 }));

    // alice fetched bob's profile (empty) when his key arrived; he sets one later, and
    // `profile show` asks again rather than repeating the empty answer.
    await run('bob', ['profile', 'set', '--name', 'Bob B.']);
    expect(lines(await run('alice', ['profile', 'show', 'bob', '--json']))[0]).toEqual({ username: 'bob', name: 'Bob B.', avatarBytes: 0 });
  }, 240_000);
});
