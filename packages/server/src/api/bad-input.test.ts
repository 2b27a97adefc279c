import { randomUUID } from 'node:crypto';
import { deviceAuthorization, ErrorCode, routeParts, Routes, type RouteName } from '@kluis/protocol';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { brandWithPlan } from '../test-support/admin.js';
import { registerAccount, sendBody, type TestDevice } from '../test-support/accounts.js';
import { call, rawRequest, type HttpResult } from '../test-support/http.js';
import { TestSocket } from '../test-support/socket-client.js';
import { startTestServer, type TestServer } from '../test-support/test-server.js';
import { DEFAULT_BODY_LIMIT } from './http-app.js';
import { apiRoutes } from './index.js';
import type { AuthKind } from './route.js';

let ts: TestServer;
let alice: TestDevice;
let bob: TestDevice;
let brand: { slug: string; planId: string };
beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
  bob = await registerAccount(ts);
  brand = await brandWithPlan(ts, 'matrix');
});
afterAll(() => ts.close());

const ERROR_CODES = new Set<string>(Object.values(ErrorCode));

/** What is wrong with an answer's shape, if anything (the matrices count these). */
function shapeProblem(r: HttpResult): string | undefined {
  if (r.headers.get('content-type')?.startsWith('application/json') !== true) return 'not JSON';
  if (typeof r.body?.code !== 'string' || !ERROR_CODES.has(r.body.code)) return 'no known code';
  if (typeof r.body.message !== 'string' || r.body.message.length <= 5) return 'no message';
  if ('error' in r.body || 'statusCode' in r.body) return "Fastify's own fields";
  return undefined;
}

/** The project's error shape: JSON `{code, message}` with a known code and a real sentence. */
function expectShape(r: HttpResult, what = ''): void {
  const got = `${what} ${r.status} ${JSON.stringify(r.body)?.slice(0, 300)}`;
  expect(r.headers.get('content-type'), got).toMatch(/^application\/json/);
  expect(typeof r.body?.code, got).toBe('string');
  expect(ERROR_CODES.has(r.body.code), got).toBe(true);
  expect(typeof r.body.message, got).toBe('string');
  expect(r.body.message.length, got).toBeGreaterThan(5);
  expect(r.body, got).not.toHaveProperty('error');
  expect(r.body, got).not.toHaveProperty('statusCode');
}

function expectError(r: HttpResult, status: number, code: string): void {
  expect(r.status, JSON.stringify(r.body)).toBe(status);
  expectShape(r);
  expect(r.body).toMatchObject({ code, message: expect.any(String) });
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

describe('answers Node and Fastify would write themselves, in the {code, message} shape', () => {
  const CRLF = '\r\n';
  const cases: Array<[string, () => string, number, string]> = [
    ['header fields over the limit (431)', () => `GET /healthz HTTP/1.1${CRLF}Host: x${CRLF}X-Big: ${'a'.repeat(20_000)}${CRLF}${CRLF}`, 431, 'HEADERS_TOO_LARGE'],
    ['a request line over the limit (414)', () => `GET /${'a'.repeat(20_000)} HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`, 414, 'URI_TOO_LONG'],
    ['a path segment over the router limit (414)', () => `GET /v1/accounts/username/${'a'.repeat(101)} HTTP/1.1${CRLF}Host: x${CRLF}Connection: close${CRLF}${CRLF}`, 414, 'URI_TOO_LONG'],
    ['a path that does not percent-decode', () => `GET /v1/accounts/username/%zz HTTP/1.1${CRLF}Host: x${CRLF}Connection: close${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['a malformed request line', () => `GARBAGE${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['an unknown method', () => `BREW /healthz HTTP/1.1${CRLF}Host: x${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['a bad HTTP version', () => `GET /healthz HTTP/9.9${CRLF}Host: x${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['a NUL in a header', () => `GET /healthz HTTP/1.1${CRLF}Host: x${CRLF}X: a\u0000b${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['a non-numeric Content-Length', () => `POST /v1/accounts HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Content-Length: abc${CRLF}${CRLF}{}`, 400, 'BAD_REQUEST'],
    ['Content-Length with Transfer-Encoding', () => `POST /v1/accounts HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 2${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}{}`, 400, 'BAD_REQUEST'],
    ['two Content-Length headers', () => `POST /v1/accounts HTTP/1.1${CRLF}Host: x${CRLF}Content-Length: 2${CRLF}Content-Length: 3${CRLF}${CRLF}{}`, 400, 'BAD_REQUEST'],
    ['a malformed chunk size', () => `POST /v1/accounts HTTP/1.1${CRLF}Host: x${CRLF}Content-Type: application/json${CRLF}Transfer-Encoding: chunked${CRLF}${CRLF}zz${CRLF}{}${CRLF}0${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['cleartext HTTP/2', () => `PRI * HTTP/2.0${CRLF}${CRLF}SM${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['HTTP/1.1 without Host', () => `GET /healthz HTTP/1.1${CRLF}Connection: close${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['an unknown Expect', () => `POST /v1/accounts HTTP/1.1${CRLF}Host: x${CRLF}Expect: telepathy${CRLF}Content-Length: 2${CRLF}${CRLF}`, 417, 'BAD_REQUEST'],
    ['CONNECT', () => `CONNECT example.com:443 HTTP/1.1${CRLF}Host: example.com:443${CRLF}${CRLF}`, 405, 'BAD_REQUEST'],
    ['a WebSocket upgrade to another path', () => `GET /v1/nope HTTP/1.1${CRLF}Host: x${CRLF}Upgrade: websocket${CRLF}Connection: Upgrade${CRLF}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==${CRLF}Sec-WebSocket-Version: 13${CRLF}${CRLF}`, 404, 'NOT_FOUND'],
    ['a WebSocket upgrade without credentials', () => `GET /v1/socket HTTP/1.1${CRLF}Host: x${CRLF}Upgrade: websocket${CRLF}Connection: Upgrade${CRLF}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==${CRLF}Sec-WebSocket-Version: 13${CRLF}${CRLF}`, 401, 'UNAUTHORIZED'],
    ['a WebSocket upgrade without Sec-WebSocket-Key', () => `GET /v1/socket HTTP/1.1${CRLF}Host: x${CRLF}Upgrade: websocket${CRLF}Connection: Upgrade${CRLF}Authorization: ${alice.auth}${CRLF}Sec-WebSocket-Version: 13${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['a WebSocket upgrade with a bad version', () => `GET /v1/socket HTTP/1.1${CRLF}Host: x${CRLF}Upgrade: websocket${CRLF}Connection: Upgrade${CRLF}Authorization: ${alice.auth}${CRLF}Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==${CRLF}Sec-WebSocket-Version: 99${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
    ['an upgrade to something else', () => `GET /v1/socket HTTP/1.1${CRLF}Host: x${CRLF}Upgrade: h2c${CRLF}Connection: Upgrade${CRLF}Authorization: ${alice.auth}${CRLF}${CRLF}`, 400, 'BAD_REQUEST'],
  ];
  for (const [name, request, status, code] of cases) {
    it(name, async () => {
      const r = await rawRequest(ts.url, request());
      expect(r.status, r.raw.slice(0, 300)).toBe(status);
      expectShape(r, name);
      expect(r.body.code).toBe(code);
    });
  }

  it('takes the header limit from --max-header-kib', async () => {
    const small = await startTestServer({ maxHeaderBytes: 8 * 1024 });
    try {
      const request = `GET /healthz HTTP/1.1${CRLF}Host: x${CRLF}X-Big: ${'a'.repeat(10_000)}${CRLF}Connection: close${CRLF}${CRLF}`;
      const refused = await rawRequest(small.url, request);
      expect(refused.status).toBe(431);
      expect(refused.body).toEqual({ code: 'HEADERS_TOO_LARGE', message: expect.stringContaining('8192 bytes') });
      expect((await rawRequest(ts.url, request)).status).toBe(200);
    } finally {
      await small.close();
    }
  });

  it('keeps serving after all of them', async () => {
    expect((await call(ts.url, 'GET', '/healthz')).body).toEqual({ status: 'ok' });
  });
});

/** Another spelling of the same bytes that Node's decoder also takes: padding dropped, or one added. */
function nonCanonical(base64: string): string {
  return base64.endsWith('=') ? base64.replace(/=+$/, '') : base64 + '=';
}

/** The same bytes again, with the unused low bits of the last group set ("QUI=" → "QUJ="). */
function lowBitsSet(base64: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
  const at = base64.length - 1 - (base64.match(/=*$/)![0].length);
  expect(at < base64.length - 1, 'needs padding').toBe(true);
  return base64.slice(0, at) + alphabet[alphabet.indexOf(base64[at]!) | 1] + base64.slice(at + 1);
}

describe('non-canonical base64', () => {
  it('is refused in content, not rewritten ("QUJ" was stored as "QUI=")', async () => {
    const withContent = (content: string) => {
      const body = sendBody([bob]);
      return { ...body, messages: [{ ...body.messages[0], content }] };
    };
    for (const content of ['QUJ', 'QUJ=', 'QR==', 'QQ==QUJD', 'QUJ-']) {
      const r = await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: withContent(content) });
      expectError(r, 400, 'BAD_REQUEST');
      expect(r.body.message).toMatch(/^body\/messages\/0\/content is not canonical standard base64/);
    }
    expect((await call(ts.url, 'PUT', `/v1/messages/${bob.accountId}`, { auth: alice.auth, body: withContent('QUI=') })).status).toBe(200);
  });

  it('is refused in keys, even where the bytes would check out', async () => {
    const signed = alice.keys.upload.signedPreKey;
    for (const signature of [nonCanonical(signed.signature), lowBitsSet(signed.signature)]) {
      const r = await call(ts.url, 'PUT', '/v1/keys', { auth: alice.auth, body: { signedPreKey: { ...signed, signature } } });
      expectError(r, 400, 'BAD_REQUEST');
      expect(r.body.message).toMatch(/signature is not canonical standard base64/);
    }
    expect((await call(ts.url, 'PUT', '/v1/keys', { auth: alice.auth, body: { signedPreKey: signed } })).status).toBe(200);
  });

  it('is refused in access keys, in the body and in the sealed-sender header', async () => {
    const key = Buffer.alloc(16, 7).toString('base64');
    const set = (accessKey: string) => call(ts.url, 'PUT', '/v1/accounts/access-key', { auth: bob.auth, body: { accessKey, unrestricted: false } });
    expectError(await set(lowBitsSet(key)), 400, 'BAD_REQUEST');
    expect((await set(key)).status).toBe(200);
    const sealed = (header: string) => {
      const { timestamp: _, ...body } = sendBody([bob], 'sealed', 6);
      return call(ts.url, 'PUT', `/v1/sealed/${bob.accountId}`, { headers: { 'unidentified-access-key': header }, body });
    };
    // The same 16 bytes under another spelling opens nothing: one key, one spelling.
    expectError(await sealed(lowBitsSet(key)), 401, 'UNAUTHORIZED');
    expect((await sealed(key)).status).toBe(200);
  });

  it('is refused in device credentials: one credential, one spelling', async () => {
    const spelled = alice.auth.replace(/^Basic /, '');
    expect((await call(ts.url, 'GET', '/v1/accounts/me', { auth: alice.auth })).status).toBe(200);
    expectError(await call(ts.url, 'GET', '/v1/accounts/me', { auth: `Basic ${nonCanonical(spelled)}` }), 401, 'UNAUTHORIZED');
  });
});

/**
 * The bad-input matrix: every route the server answers × malformed requests. The route
 * list comes from protocol's Routes and what the server registered; each route needs an
 * entry below (the auth it must demand), so a route added later fails here until the
 * matrix covers it. Every answer must be a 4xx in the {code, message} shape.
 */
type MatrixAuth = AuthKind;
const expectedAuth: Record<RouteName, MatrixAuth> = {
  health: 'none',
  register: 'none',
  reregister: 'device',
  whoami: 'device',
  callRelay: 'device',
  lookupUsername: 'device',
  uploadKeys: 'device',
  keyCount: 'device',
  fetchBundles: 'device',
  listDevices: 'device',
  removeDevice: 'device',
  createLinkCode: 'device',
  linkStatus: 'device',
  provisionLink: 'device',
  linkRequest: 'none',
  linkFetch: 'none',
  linkComplete: 'none',
  sendMessage: 'device',
  getTrustRoot: 'none',
  getSenderCertificate: 'device',
  setAccessKey: 'device',
  sendSealed: 'none',
  sendSealedMulti: 'none',
  sendMulti: 'device',
  socket: 'none',
  sealedSocket: 'none',
  createInvites: 'operator',
  getSubscription: 'device',
  renewSubscription: 'device',
  createMemberInvite: 'device',
  createAttachment: 'device',
  uploadAttachment: 'device',
  attachmentStatus: 'device',
  downloadAttachment: 'device',
  adminOpenApi: 'none',
  adminMe: 'admin',
  adminStats: 'admin',
  listBrands: 'admin',
  createBrand: 'operator',
  getBrand: 'admin',
  updateBrand: 'operator',
  retireBrand: 'operator',
  listPlans: 'admin',
  createPlan: 'admin',
  updatePlan: 'admin',
  retirePlan: 'admin',
  listCodes: 'admin',
  createCodes: 'admin',
  revokeCodes: 'admin',
  listAccounts: 'admin',
  getAccount: 'admin',
  suspendAccount: 'admin',
  unsuspendAccount: 'admin',
  deleteAccount: 'admin',
  revokeAccountDevices: 'admin',
  listAdmins: 'operator',
  createAdmin: 'operator',
  revokeAdmin: 'operator',
  listAudit: 'admin',
  listNodes: 'none',
  adminNodes: 'operator',
  setProfile: 'device',
  getProfile: 'device',
};

/** Routes outside protocol's table (operations, the console): a malformed request each. */
const extraRoutes: Record<string, () => Promise<HttpResult[]>> = {
  'GET /readyz': async () => [await call(ts.url, 'PUT', '/readyz', { raw: '{' }), await call(ts.url, 'POST', '/readyz', { raw: '{' })],
  'GET /metrics': async () => [await call(ts.url, 'DELETE', '/metrics')],
  'GET /console': async () => [await call(ts.url, 'POST', '/console', { raw: '{' })],
  'GET /console/*': async () => [await call(ts.url, 'GET', '/console/assets/missing.js'), await call(ts.url, 'GET', '/console/%zz')],
};

/** A well-formed value of each path parameter, and malformed ones with the status they get. */
const goodParam: Record<string, () => string> = {
  accountId: () => bob.accountId,
  deviceId: () => '1',
  username: () => bob.username,
  id: () => 'A'.repeat(22),
  brand: () => brand.slug,
  planId: () => brand.planId,
  adminId: () => randomUUID(),
};
const badParams: Record<string, Array<[string, number]>> = {
  accountId: [['not-a-uuid', 400], ['%zz', 400]],
  deviceId: [['abc', 400], ['1000', 400]],
  username: [['%zz', 400]],
  id: [['short', 400], ['%2e%2e%2f', 400]],
  brand: [['Not_A_Slug', 400]],
  planId: [['nope', 400]],
  adminId: [['nope', 400]],
};

interface Probe {
  what: string;
  status: number | number[];
  send(): Promise<HttpResult>;
}

const credentialsFor = (auth: MatrixAuth): string | undefined =>
  auth === 'device' ? alice.auth : auth === 'none' ? undefined : `Bearer ${ts.operatorToken}`;

function fillPath(path: string, overrides: Record<string, string> = {}): string {
  return path.replace(/:(\w+)/g, (_, name: string) => {
    const good = goodParam[name];
    if (!good) throw new Error(`the matrix has no sample value for path parameter :${name}; add it to goodParam and badParams`);
    return overrides[name] ?? good();
  });
}

/** The malformed requests one route gets, derived from its definition. */
function probesFor(name: RouteName): Probe[] {
  const def = apiRoutes.find((r) => r.name === name)!;
  const { method, path } = routeParts(Routes[name]);
  const auth = credentialsFor(def.auth);
  const url = fillPath(path);
  const probes: Probe[] = [];
  if (def.auth !== 'none') {
    const wrongKind = def.auth === 'device' ? `Bearer ${ts.operatorToken}` : alice.auth;
    const forged = def.auth === 'device' ? deviceAuthorization(randomUUID(), 1, alice.password) : 'Bearer ' + 'x'.repeat(43);
    // Authentication comes first: a stranger's broken body still gets the 401.
    const raw = method === 'GET' ? undefined : '{broken';
    probes.push({ what: 'no credentials', status: 401, send: () => call(ts.url, method, url, { raw }) });
    probes.push({ what: 'forged credentials', status: 401, send: () => call(ts.url, method, url, { auth: forged }) });
    probes.push({ what: 'the wrong kind of credentials', status: 401, send: () => call(ts.url, method, url, { auth: wrongKind }) });
  }
  if (def.body) {
    probes.push({ what: 'malformed JSON', status: 400, send: () => call(ts.url, method, url, { auth, raw: '{"broken": ' }) });
    probes.push({ what: 'a form body', status: 415, send: () => call(ts.url, method, url, { auth, raw: 'a=1', contentType: 'application/x-www-form-urlencoded' }) });
    probes.push({ what: 'an array body', status: 400, send: () => call(ts.url, method, url, { auth, body: [] }) });
    probes.push({ what: 'an unknown field', status: 400, send: () => call(ts.url, method, url, { auth, body: { zzz: 1 } }) });
    probes.push({ what: 'a wrong type', status: 400, send: () => call(ts.url, method, url, { auth, body: 'string' }) });
    const limit = def.bodyLimit ?? DEFAULT_BODY_LIMIT;
    probes.push({ what: `a body over its ${limit} byte limit`, status: 413, send: () => call(ts.url, method, url, { auth, raw: JSON.stringify({ x: 'x'.repeat(limit) }) }) });
  }
  if (def.query) probes.push({ what: 'an unknown query parameter', status: 400, send: () => call(ts.url, method, `${url}?zzz=1`, { auth }) });
  for (const param of path.match(/:(\w+)/g) ?? []) {
    const p = param.slice(1);
    for (const [value, status] of badParams[p] ?? []) {
      probes.push({ what: `:${p} = ${value}`, status, send: () => call(ts.url, method, fillPath(path, { [p]: value }), { auth }) });
    }
    probes.push({ what: `:${p} over the router's length limit`, status: 414, send: () => call(ts.url, method, fillPath(path, { [p]: 'a'.repeat(101) }), { auth }) });
  }
  // A method the route does not have: 404 in the same shape (or 400 when another route's pattern matches).
  const other = method === 'DELETE' ? 'PATCH' : 'DELETE';
  if (!Object.values(Routes).includes(`${other} ${path}` as never)) {
    probes.push({ what: `${other} instead of ${method}`, status: [404, 400], send: () => call(ts.url, other, url, { auth }) });
  }
  return probes;
}

describe('bad-input matrix: every route', () => {
  let sent = 0;
  let offShape = 0;

  it('has an entry for every route the server answers, and no other', () => {
    const served = new Set(ts.server.routes.filter((r) => !r.startsWith('HEAD ')));
    const covered = new Set([...Object.values(Routes), ...Object.keys(extraRoutes)]);
    expect([...served].sort()).toEqual([...covered].sort());
    expect(Object.keys(expectedAuth).sort()).toEqual(Object.keys(Routes).sort());
    // The auth each route demands is the one the matrix states: no route loses its guard unnoticed.
    for (const def of apiRoutes) expect(def.auth, def.name).toBe(expectedAuth[def.name]);
  });

  for (const name of Object.keys(Routes) as RouteName[]) {
    it(`${name}: every malformed request gets a 4xx {code, message}`, async () => {
      const probes = probesFor(name);
      for (const probe of probes) {
        const r = await probe.send();
        sent++;
        const label = `${name} with ${probe.what}`;
        if (shapeProblem(r) !== undefined) offShape++;
        expectShape(r, label);
        expect([probe.status].flat(), `${label}: ${r.status} ${JSON.stringify(r.body)}`).toContain(r.status);
      }
    });
  }

  for (const [route, send] of Object.entries(extraRoutes)) {
    it(`${route}: malformed requests get a 4xx {code, message}`, async () => {
      for (const r of await send()) {
        sent++;
        if (shapeProblem(r) !== undefined) offShape++;
        expect(r.status, `${route}: ${r.status} ${JSON.stringify(r.body)}`).toBeGreaterThanOrEqual(400);
        // The console answers 503 when it is not built (npm test needs no Vite build).
        expect(r.status === 503 || r.status < 500, route).toBe(true);
        expectShape(r, route);
      }
    });
  }

  it('sent requests and found none off the shape', () => {
    // The count goes in the closing note.
    console.log(`bad-input matrix: ${sent} requests, ${offShape} answers outside {code, message}`);
    expect(sent).toBeGreaterThan(300);
    expect(offShape).toBe(0);
  });
});
