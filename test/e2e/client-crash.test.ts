import { afterAll, describe, expect, it } from 'vitest';
import { Harness } from '../harness/index.js';

/**
 * A client process that dies after decrypting but before committing must get the same
 * envelope again (it never acked) and store it once.
 */
describe('client killed before committing', () => {
  const h = new Harness();
  afterAll(() => h.dispose());

  it('redelivers the message and stores it exactly once', async () => {
    const server = await h.startServer();
    const env = await h.cliEnv({ KLUIS_SERVER: server.url });
    const [invite] = await server.mintInvites(1);
    const reg = await h.cli(['--profile', 'bob', 'register', '--server', server.url, '--invite', invite!, '--username', 'bob'], env);
    expect(reg.code, reg.stderr).toBe(0);

    const alice = await h.registeredClient(server, 'alice');
    await alice.send('bob', 'survives a crash');
    await alice.send('bob', 'and so does this one');

    const crashed = await h.cli(['--profile', 'bob', 'receive', '--json'], { ...env, KLUIS_TEST_FAULT: 'kill-before-commit' });
    expect(crashed.signal).toBe('SIGKILL');
    expect(crashed.stdout).toBe('');

    const again = await h.cli(['--profile', 'bob', 'receive', '--json'], env);
    expect(again.code, again.stderr).toBe(0);
    const lines = again.stdout.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.map((l) => l.text)).toEqual(['survives a crash', 'and so does this one']);

    const third = await h.cli(['--profile', 'bob', 'receive', '--json'], env);
    expect(third.code, third.stderr).toBe(0);
    expect(third.stdout).toBe('');
  });
});
