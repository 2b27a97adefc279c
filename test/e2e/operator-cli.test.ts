import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Harness } from '../harness/index.js';

/** The operator's CLI against a real server, and a subscriber's `kluis renew` / SDK warning. */
describe('kluis admin and kluis renew', () => {
  const h = new Harness();
  afterAll(() => h.dispose());

  it('creates a brand and plan, mints codes to CSV, sees and suspends the account, and renews it', async () => {
    const server = await h.startServer({ argon2MemoryKib: 64, argon2Iterations: 1 });
    const env = await h.cliEnv({ KLUIS_SERVER: server.url, KLUIS_OPERATOR_TOKEN: server.operatorToken });
    const run = async (args: string[]) => {
      const r = await h.cli(args, env);
      expect(r.code, `kluis ${args.join(' ')}\n${r.stderr}`).toBe(0);
      return r.stdout;
    };
    const json = async (args: string[]) => JSON.parse(await run([...args, '--json']));

    await json(['admin', 'brands', 'create', 'acme', '--name', 'Acme Secure', '--grace-days', '3']);
    // A one-week plan: the new account is inside the 14-day warning window at once.
    const plan = await json(['admin', 'plans', 'create', '--brand', 'acme', '--name', 'Week', '--duration', '7d', '--price', '4.99']);
    expect(plan).toMatchObject({ durationUnit: 'days', durationCount: 7, priceCents: 499 });
    const csv = join(await h.tempDir('csv'), 'codes.csv');
    await run(['admin', 'codes', 'create', '--brand', 'acme', '--plan', plan.id, '--type', 'invite', '--count', '3', '--expires', '2099-01-01', '--csv', csv]);
    const rows = (await readFile(csv, 'utf8')).trim().split('\n');
    expect(rows[0]).toBe('code,id,type,brand,plan,batch,expires');
    expect(rows).toHaveLength(4);
    const firstCode = rows[1]!.split(',')[0]!;

    const client = await h.openClient('carol');
    await client.register({ serverUrl: server.url, inviteCode: firstCode, username: 'carol' });
    const warned = new Promise((resolve) => client.once('subscription-expiring', resolve));
    await client.connect();
    expect(await warned).toMatchObject({ state: 'active', daysLeft: 7 });

    const listed = await json(['admin', 'accounts', 'list', '--brand', 'acme']);
    expect(listed.accounts).toEqual([expect.objectContaining({ username: 'carol', brand: 'acme', state: 'active', deviceCount: 1 })]);
    const codes = await json(['admin', 'codes', 'list', '--brand', 'acme', '--status', 'used']);
    expect(codes.codes).toHaveLength(1);
    // The batch id that `codes revoke --batch` needs is in the plain list too, not only in the CSV.
    const batch = rows[1]!.split(',')[5]!;
    expect(await run(['admin', 'codes', 'list', '--brand', 'acme', '--status', 'used'])).toContain(`batch ${batch}`);
    const created = await h.cli(['admin', 'codes', 'create', '--brand', 'acme', '--plan', plan.id, '--type', 'invite'], env);
    expect(created.stderr).toMatch(/^batch [0-9a-f-]{36} /m);
    expect(created.stdout.trim().split('\n')).toHaveLength(1);

    const accountId = listed.accounts[0].id;
    expect(await run(['admin', 'accounts', 'suspend', accountId])).toMatch(/suspended .*carol/);
    expect(await run(['admin', 'accounts', 'unsuspend', accountId])).toMatch(/unsuspended/);

    // A renewal code from the CLI, redeemed through the SDK: paid-until moves by 7 days.
    const renewal = (await json(['admin', 'codes', 'create', '--brand', 'acme', '--plan', plan.id, '--type', 'renewal'])).codes[0].code;
    const before = (await client.subscription.info()).paidUntil!;
    expect((await client.subscription.renew(renewal)).paidUntil).toBe(before + 7 * 86_400_000);

    const audit = await json(['admin', 'audit', 'list']);
    expect(audit.entries.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['brand.create', 'plan.create', 'codes.create', 'account.suspend', 'account.unsuspend']),
    );
    const admins = await json(['admin', 'admins', 'create', '--name', 'Acme reseller', '--role', 'brand-admin', '--brand', 'acme']);
    const r = await h.cli(['admin', 'brands', 'create', 'other', '--name', 'Other', '--token', admins.token], env);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toMatch(/403.*only an operator/);
  });

  it('kluis renew: a subscriber renews from the command line', async () => {
    const server = await h.startServer({ argon2MemoryKib: 64, argon2Iterations: 1 });
    const env = await h.cliEnv({ KLUIS_SERVER: server.url, KLUIS_OPERATOR_TOKEN: server.operatorToken });
    const [invite] = await server.mintInvites(1);
    const reg = await h.cli(['--profile', 'dave', 'register', '--server', server.url, '--invite', invite!, '--username', 'dave'], env);
    expect(reg.code, reg.stderr).toBe(0);
    const plans = JSON.parse((await h.cli(['admin', 'plans', 'list', '--brand', 'default', '--json'], env)).stdout);
    const minted = JSON.parse((await h.cli(['admin', 'codes', 'create', '--brand', 'default', '--plan', plans.plans[0].id, '--type', 'renewal', '--json'], env)).stdout);
    const renewed = await h.cli(['--profile', 'dave', 'renew', minted.codes[0].code], env);
    expect(renewed.code, renewed.stderr).toBe(0);
    expect(renewed.stdout).toMatch(/kluis: active, paid until \d{4}-\d{2}-\d{2}/);
    const again = await h.cli(['--profile', 'dave', 'renew', minted.codes[0].code], env);
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already used/);
  });
});
