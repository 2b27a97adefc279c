import { deviceAuthorization } from '@kluis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call, type HttpResult } from '../test-support/http.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';

let ts: TestServer;
let alice: TestDevice;
let bob: TestDevice;
beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
  bob = await registerAccount(ts);
});
afterAll(() => ts.close());

function expectError(r: HttpResult, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expect(r.headers.get('content-type')).toMatch(/^application\/json/);
  expect(r.body).toMatchObject({ code, message: expect.any(String) });
  expect(r.body.message.length).toBeGreaterThan(5);
}

describe('bad input', () => {
  it('answers malformed JSON, wrong content types and empty bodies with 4xx JSON', async () => {
    expectError(await call(ts.url, 'POST', '/v1/accounts', { raw: '{"inviteCode": ' }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/v1/accounts', { raw: '\u0000\u0001' }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/v1/accounts', { raw: 'inviteCode=x', contentType: 'application/x-www-form-urlencoded' }), 415, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/v1/accounts', { raw: '{}', contentType: 'text/plain' }), 415, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/v1/accounts', { raw: '' }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/v1/accounts', { body: [] }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/v1/accounts', { raw: '{"__proto__": {"x": 1}}' }), 400, 'BAD_REQUEST');
  });

  it('refuses wrong types and unknown fields without coercing', async () => {
    const body = sendBody([bob]);
    const variants: unknown[] = [
      { ...body, timestamp: String(body.timestamp) },
      { ...body, messages: [{ ...body.messages[0], deviceId: '1' }] },
      { ...body, messages: [{ ...body.messages[0], type: 99 }] },
      { ...body, messages: [{ ...body.messages[0], content: 'not base64!' }] },
      { ...body, messages: [{ ...body.messages[0], registrationId: 0x4000 }] },
      { ...body, extra: true },
      { ...body, messages: Array.from({ length: 7 }, () => body.messages[0]) },
    ];
    for (const v of variants) {
      const r = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: v });
      expectError(r, 400, 'BAD_REQUEST');
      expect(r.body.message).toMatch(/^body/);
    }
    expectError(await call(ts.url, 'PUT', '/v1/messages/not-a-uuid', { auth: alice.auth, body }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'GET', `/v1/keys/${bob.accountId}/abc`, { auth: alice.auth }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'DELETE', '/v1/devices/1000', { auth: alice.auth }), 400, 'BAD_REQUEST');
  });

  it('answers 413 for bodies over the limit', async () => {
    const big = 'x'.repeat(600 * 1024);
    expectError(await call(ts.url, 'POST', '/v1/accounts', { raw: JSON.stringify({ inviteCode: big }) }), 413, 'PAYLOAD_TOO_LARGE');
    const huge = { timestamp: 1, messages: [{ deviceId: 1, registrationId: 1, type: 2, content: 'A'.repeat(1024 * 1024) }] };
    expectError(await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: huge }), 413, 'PAYLOAD_TOO_LARGE');
  });

  it('answers missing, malformed and forged credentials with 401', async () => {
    const forged = [
      undefined,
      'Bearer nope',
      'Basic',
      'Basic ' + Buffer.from('no-colon').toString('base64'),
      'Basic ' + Buffer.from(`${alice.accountId}:pw`).toString('base64'),
      'Basic ' + Buffer.from(`${alice.accountId}.0:${alice.password}`).toString('base64'),
      'Basic ' + Buffer.from(`${alice.accountId}.999:${alice.password}`).toString('base64'),
      deviceAuthorization(alice.accountId, 1, alice.password + 'x'),
      deviceAuthorization(alice.accountId, 2, alice.password),
      // Alice's password presented for Bob's device: another account's device id.
      deviceAuthorization(bob.accountId, 1, alice.password),
      deviceAuthorization('00000000-0000-4000-8000-000000000000', 1, alice.password),
    ];
    for (const auth of forged) {
      expectError(await call(ts.url, 'GET', '/v1/accounts/me', { auth }), 401, 'UNAUTHORIZED');
      expectError(await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth, body: sendBody([bob]) }), 401, 'UNAUTHORIZED');
    }
    // Authentication happens before validation: strangers learn nothing about bodies.
    expectError(await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { raw: '{broken' }), 401, 'UNAUTHORIZED');
  });

  it('guards the operator API', async () => {
    expectError(await call(ts.url, 'POST', '/admin/invites', { body: { count: 1 } }), 401, 'UNAUTHORIZED');
    expectError(await call(ts.url, 'POST', '/admin/invites', { auth: 'Bearer ' + 'x'.repeat(43), body: { count: 1 } }), 401, 'UNAUTHORIZED');
    expectError(await call(ts.url, 'POST', '/admin/invites', { auth: alice.auth, body: { count: 1 } }), 401, 'UNAUTHORIZED');
    const op = `Bearer ${ts.operatorToken}`;
    expectError(await call(ts.url, 'POST', '/admin/invites', { auth: op, body: { count: 1001 } }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/admin/invites', { auth: op, body: { count: 0 } }), 400, 'BAD_REQUEST');
    expectError(await call(ts.url, 'POST', '/admin/invites', { auth: op, body: { expiresAt: 1 } }), 400, 'BAD_REQUEST');
    const many = await call(ts.url, 'POST', '/admin/invites', { auth: op, body: { count: 1000 } });
    expect(many.body.codes).toHaveLength(1000);
    expect(new Set(many.body.codes).size).toBe(1000);
    expect(many.body.codes[0]).toMatch(/^[0-9A-Z]{4}(-[0-9A-Z]{1,4}){6}$/);
    const one = await call(ts.url, 'POST', '/admin/invites', { auth: op });
    expect(one.body.codes).toHaveLength(1);
  });

  it('answers unknown routes and methods with 404 JSON, and keeps serving', async () => {
    expectError(await call(ts.url, 'GET', '/nope'), 404, 'NOT_FOUND');
    expectError(await call(ts.url, 'PATCH', '/v1/accounts'), 404, 'NOT_FOUND');
    expect((await call(ts.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
  });
});
