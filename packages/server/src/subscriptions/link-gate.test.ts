/**
 * A lapsed or suspended account adds no devices: every linking step (make a code, request,
 * provision, complete) answers 402 in grace and 403 when suspended, with the reason and
 * the way out; prekey uploads and re-registration stop once suspended. On an injected clock.
 */
import { PrivateKey } from '@signalapp/libsignal-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { linkDevice, type TestDevice } from '../test-support/accounts.js';
import { accountIn, adminOk, brandWithPlan, mintCodes } from '../test-support/admin.js';
import { call, type HttpResult } from '../test-support/http.js';
import { generateDeviceKeys, newIdentity, newPassword, newRegistrationId } from '../test-support/keys.js';
import { openSqliteForTest } from '../test-support/peek.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

const DAY = 86_400_000;
let now = Date.UTC(2026, 2, 10, 12);
let ts: TestServer;
let brand: { slug: string; planId: string };

beforeAll(async () => {
  ts = await startTestServer({}, { clock: () => now });
  brand = await brandWithPlan(ts, 'linkgate'); // 30 days, 7 of grace
});
afterAll(() => ts.close());

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const createCode = (primary: TestDevice) => call(ts.url, 'POST', '/v1/devices/link-codes', { auth: primary.auth });
const request = (code: string) => call(ts.url, 'POST', '/v1/link/request', { body: { code, publicKey: b64(PrivateKey.generate().getPublicKey().serialize()) } });
const provision = (primary: TestDevice, code: string) =>
  call(ts.url, 'POST', '/v1/devices/link-codes/provision', { auth: primary.auth, body: { code, sealed: b64(Buffer.alloc(64, 7)) } });
/** The new device's last step; its keys signed with the account identity, as after a real provisioning. */
const complete = (primary: TestDevice, code: string) =>
  call(ts.url, 'POST', '/v1/link/complete', {
    body: { code, registrationId: newRegistrationId(), password: newPassword(), ...generateDeviceKeys(primary.identity, { preKeys: 1, kyberPreKeys: 1 }).upload },
  });
const uploadKeys = (d: TestDevice) => call(ts.url, 'PUT', '/v1/keys', { auth: d.auth, body: { preKeys: generateDeviceKeys(d.identity, { preKeys: 1, kyberPreKeys: 0 }).upload.preKeys } });
function reregister(d: TestDevice) {
  const identity = newIdentity();
  return call(ts.url, 'PUT', '/v1/accounts/identity', {
    auth: d.auth,
    body: { identityKey: b64(identity.publicKey.serialize()), registrationId: newRegistrationId(), password: newPassword(), ...generateDeviceKeys(identity, { preKeys: 1, kyberPreKeys: 1 }).upload },
  });
}

/** A code walked to `state` while the account could still link. */
async function codeAt(primary: TestDevice, state: 'waiting' | 'requested' | 'provisioned'): Promise<string> {
  const r = await createCode(primary);
  expect(r.status).toBe(200);
  const code: string = r.body.code;
  if (state === 'waiting') return code;
  expect((await request(code)).status).toBe(200);
  if (state === 'requested') return code;
  expect((await provision(primary, code)).status).toBe(200);
  return code;
}

function devicesOf(accountId: string): number {
  const peek = openSqliteForTest(ts.dataDir);
  try {
    return peek.count('devices', accountId);
  } finally {
    peek.close();
  }
}

function expectRefused(r: HttpResult, status: 402 | 403, message: RegExp) {
  expect(r.status).toBe(status);
  expect(r.body.code).toBe(status === 402 ? 'SUBSCRIPTION_EXPIRED' : 'ACCOUNT_SUSPENDED');
  expect(r.body.message).toMatch(message);
}

describe('linking and key uploads follow the subscription', () => {
  it('in grace: no link code, no request, no completion (402, renew hint); prekeys still upload; renewing restores', async () => {
    const alice = await accountIn(ts, brand);
    const paidUntil: number = (await call(ts.url, 'GET', '/v1/subscription', { auth: alice.auth })).body.paidUntil;
    // Codes made a minute before the end (they live ten minutes).
    now = paidUntil - 60_000;
    const waiting = await codeAt(alice, 'waiting');
    const provisioned = await codeAt(alice, 'provisioned');
    now = paidUntil + 60_000;
    const inGrace = /^devices cannot be linked: your subscription ended on \d{4}-\d{2}-\d{2}; renew .*kluis renew/;
    expectRefused(await createCode(alice), 402, inGrace);
    expectRefused(await request(waiting), 402, inGrace);
    expectRefused(await complete(alice, provisioned), 402, inGrace);
    expect(devicesOf(alice.accountId)).toBe(1);
    // Grace still receives: others need its prekeys.
    expect((await uploadKeys(alice)).status).toBe(200);

    const [code] = await mintCodes(ts, brand, 'renewal');
    expect((await call(ts.url, 'POST', '/v1/subscription/renew', { auth: alice.auth, body: { code } })).status).toBe(200);
    // The code made before the lapse works again (still live), and a new one links.
    expect((await complete(alice, provisioned)).status).toBe(200);
    await linkDevice(ts, alice);
    expect(devicesOf(alice.accountId)).toBe(3);
  });

  it('past grace: link codes, prekey uploads and re-registration answer 403 with the dates and `kluis renew`', async () => {
    // (Codes made before the lapse are dead by now: refused in grace, and they live ten minutes.)
    const bob = await accountIn(ts, brand);
    const graceEndsAt: number = (await call(ts.url, 'GET', '/v1/subscription', { auth: bob.auth })).body.graceEndsAt;
    now = graceEndsAt + 60_000;
    expectRefused(await createCode(bob), 403, /^devices cannot be linked: this account is suspended: the subscription ended on .* and the grace period ended on .*kluis renew/);
    expectRefused(await uploadKeys(bob), 403, /^prekeys cannot be uploaded: this account is suspended: .*kluis renew/);
    expectRefused(await reregister(bob), 403, /^the account cannot be re-registered: this account is suspended: .*kluis renew/);
    expect(devicesOf(bob.accountId)).toBe(1);
  });

  it('suspended by an admin: refused with the operator as the reason; unsuspending restores', async () => {
    const carol = await accountIn(ts, brand);
    const requested = await codeAt(carol, 'requested');
    const provisioned = await codeAt(carol, 'provisioned');
    await adminOk(ts, ts.operatorToken, 'POST', `/admin/accounts/${carol.accountId}/suspend`);
    const byOperator = /^devices cannot be linked: this account has been suspended by the service operator; contact your reseller$/;
    expectRefused(await createCode(carol), 403, byOperator);
    expectRefused(await provision(carol, requested), 403, byOperator);
    expectRefused(await complete(carol, provisioned), 403, byOperator);
    expectRefused(await uploadKeys(carol), 403, /^prekeys cannot be uploaded: this account has been suspended by the service operator/);
    expectRefused(await reregister(carol), 403, /^the account cannot be re-registered: this account has been suspended by the service operator/);
    expect(devicesOf(carol.accountId)).toBe(1);
    await adminOk(ts, ts.operatorToken, 'POST', `/admin/accounts/${carol.accountId}/unsuspend`);
    expect((await provision(carol, requested)).status).toBe(200);
    expect((await complete(carol, provisioned)).status).toBe(200);
    expect(devicesOf(carol.accountId)).toBe(2);
  });
});
