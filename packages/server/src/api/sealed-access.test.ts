/**
 * Sealed sends without credentials: an account that never set an access key takes no
 * sealed mail unless it said so (`unrestricted`), and an unknown account answers exactly
 * like an existing one with a wrong key — same status, same bytes, same time.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call } from '../test-support/http.js';
import { sealedMultiMessage } from '../test-support/sessions.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { sameTiming } from '../test-support/timing.js';

let ts: TestServer;
/** The sender, who knows its own key (as an attacker probing for accounts would). */
let alice: TestDevice;
let bob: TestDevice;
/** Never set an access key. */
let keyless: TestDevice;
const aliceKey = randomBytes(16);
const bobKey = randomBytes(16);

beforeAll(async () => {
  // Rate limits off: the timing test sends hundreds of refused keys to one account (the
  // failure bucket treats unknown and known accounts alike, see rate-limits.test.ts).
  ts = await startTestServer({ rateLimits: false });
  [alice, bob, keyless] = [await registerAccount(ts), await registerAccount(ts), await registerAccount(ts)];
  for (const [d, k] of [[alice, aliceKey], [bob, bobKey]] as const) await setKey(d, k, false);
});
afterAll(() => ts.close());

async function setKey(d: TestDevice, key: Buffer, unrestricted: boolean): Promise<void> {
  const r = await call(ts.url, 'PUT', '/v1/accounts/access-key', { auth: d.auth, body: { accessKey: key.toString('base64'), unrestricted } });
  expect(r.status).toBe(200);
}

const xor = (...keys: Buffer[]) => {
  const out = Buffer.alloc(16);
  for (const k of keys) for (let i = 0; i < 16; i++) out[i]! ^= k[i]!;
  return out;
};

/** Status and the exact bytes of the answer. */
async function raw(method: string, path: string, key: Buffer, body: unknown): Promise<{ status: number; text: string }> {
  const res = await fetch(ts.url + path, {
    method,
    headers: { 'content-type': 'application/json', 'unidentified-access-key': key.toString('base64') },
    body: JSON.stringify(body),
  });
  return { status: res.status, text: await res.text() };
}

const single = (accountId: string, key: Buffer, to: TestDevice) => raw('PUT', `/v1/sealed/${accountId}`, key, sendBody([to], 'sealed', 6));
const multi = (message: string, key: Buffer) => raw('PUT', '/v1/sealed', key, { message });

/** A multi-recipient sealed message; an entry with `as` is filed under that (made-up) account id over a real device's session. */
const multiMessage = (from: TestDevice, to: Array<{ device: TestDevice; as?: string }>) =>
  sealedMultiMessage(ts.url, from, to.map((t) => (t.as ? { device: t.device, as: t.as } : t.device)));

describe('sealed access without a key', () => {
  it('a multi-recipient send to an account that never set a key is refused (a missing key is not 16 zero bytes)', async () => {
    const message = await multiMessage(bob, [{ device: alice }, { device: keyless }]);
    // The keyless account used to count as zeros in the XOR: alice's key alone let it through.
    const zeros = await multi(message, aliceKey);
    expect(zeros.status).toBe(401);
    expect(JSON.parse(zeros.text)).toEqual({ code: 'UNAUTHORIZED', message: 'missing or wrong unidentified-access key' });
    expect((await multi(message, xor(aliceKey, randomBytes(16)))).status).toBe(401);
    // Both keyed: accepted.
    expect((await multi(await multiMessage(keyless, [{ device: alice }, { device: bob }]), xor(aliceKey, bobKey))).status).toBe(200);
  });

  it('a single sealed send to a keyless account is refused too, zero key or any other', async () => {
    expect((await single(keyless.accountId, Buffer.alloc(16), keyless)).status).toBe(401);
    expect((await single(keyless.accountId, randomBytes(16), keyless)).status).toBe(401);
  });

  it('an account that takes sealed mail from anyone (unrestricted) accepts any key, alone or in a group', async () => {
    const open = await registerAccount(ts);
    const openKey = randomBytes(16);
    await setKey(open, openKey, true);
    expect((await single(open.accountId, randomBytes(16), open)).status).toBe(200);
    // In a multi send the combination still includes its key (senders derive it from its profile key).
    expect((await multi(await multiMessage(alice, [{ device: bob }, { device: open }]), xor(bobKey, openKey))).status).toBe(200);
    // Switched back: a key that is not its own is refused again.
    await setKey(open, openKey, false);
    expect((await single(open.accountId, randomBytes(16), open)).status).toBe(401);
    expect((await single(open.accountId, openKey, open)).status).toBe(200);
  });
});

describe('no account-existence oracle', () => {
  it('multi: an unknown account answers the same bytes as an existing one with a wrong key (not 404 unknownAccounts)', async () => {
    // The prober knows its own key (alice's) and adds the account it is curious about.
    const ghost = randomUUID();
    const toGhost = await multiMessage(alice, [{ device: alice }, { device: bob, as: ghost }]);
    const toBob = await multiMessage(alice, [{ device: alice }, { device: bob }]);
    const unknown = await multi(toGhost, aliceKey);
    const wrong = await multi(toBob, aliceKey);
    expect(wrong.status).toBe(401);
    expect(unknown).toEqual(wrong);
    // And with the whole combination wrong.
    expect(await multi(toGhost, randomBytes(16))).toEqual(wrong);
  });

  it('single: an unknown account, a keyless one and a wrong key answer the same bytes', async () => {
    const wrong = await single(bob.accountId, randomBytes(16), bob);
    expect(wrong.status).toBe(401);
    expect(await single(randomUUID(), randomBytes(16), bob)).toEqual(wrong);
    expect(await single(keyless.accountId, randomBytes(16), keyless)).toEqual(wrong);
  });

  it('takes the same time for an unknown account as for a wrong key (medians of interleaved requests)', async () => {
    const ghost = randomUUID();
    const toGhost = await multiMessage(alice, [{ device: alice }, { device: bob, as: ghost }]);
    const toBob = await multiMessage(alice, [{ device: alice }, { device: bob }]);
    const check = (r: { status: number }) => expect(r.status).toBe(401);
    const { ok, medians } = await sameTiming(
      'sealed access',
      {
        singleUnknown: async () => check(await single(ghost, randomBytes(16), bob)),
        singleWrong: async () => check(await single(bob.accountId, randomBytes(16), bob)),
        multiUnknown: async () => check(await multi(toGhost, aliceKey)),
        multiWrong: async () => check(await multi(toBob, aliceKey)),
      },
      [
        ['singleUnknown', 'singleWrong'],
        ['multiUnknown', 'multiWrong'],
      ],
    );
    expect(ok, JSON.stringify(medians)).toBe(true);
  }, 240_000);
});
