import { randomBytes } from 'node:crypto';
import { PrivateKey, PublicKey, type IdentityKeyPair } from '@signalapp/libsignal-client';
import { deviceAuthorization } from '@kluis/protocol';
import { call } from './http.js';
import { generateDeviceKeys, newIdentity, newPassword, newRegistrationId, type DeviceKeySet } from './keys.js';
import { MemorySignalStores } from './signal-stores.js';
import type { TestServer } from './test-server.js';

export interface TestDevice {
  accountId: string;
  deviceId: number;
  username: string;
  password: string;
  auth: string;
  registrationId: number;
  identity: IdentityKeyPair;
  keys: DeviceKeySet;
  signal: MemorySignalStores;
}

let counter = 0;
export function uniqueName(prefix = 'user'): string {
  return `${prefix}_${process.pid}_${++counter}_${randomBytes(2).toString('hex')}`.slice(0, 32);
}

export async function registerAccount(
  ts: TestServer,
  opts: { username?: string; invite?: string; preKeys?: number; kyberPreKeys?: number } = {},
): Promise<TestDevice> {
  const identity = newIdentity();
  const keys = generateDeviceKeys(identity, { preKeys: opts.preKeys ?? 2, kyberPreKeys: opts.kyberPreKeys ?? 2 });
  const password = newPassword();
  const registrationId = newRegistrationId();
  const invite = opts.invite ?? (await ts.mintInvites(1))[0]!;
  const username = opts.username ?? uniqueName();
  const r = await call(ts.url, 'POST', '/v1/accounts', {
    body: { inviteCode: invite, username, identityKey: Buffer.from(identity.publicKey.serialize()).toString('base64'), registrationId, password, ...keys.upload },
  });
  if (r.status !== 200) throw new Error(`register failed: ${r.status} ${JSON.stringify(r.body)}`);
  return {
    accountId: r.body.accountId,
    deviceId: r.body.deviceId,
    username: r.body.username,
    password,
    auth: deviceAuthorization(r.body.accountId, r.body.deviceId, password),
    registrationId,
    identity,
    keys,
    signal: new MemorySignalStores(identity, registrationId, keys),
  };
}

/** The whole four-step link flow, with the identity key pair sealed (HPKE) to the new device. */
export async function linkDevice(ts: TestServer, primary: TestDevice, opts: { preKeys?: number; kyberPreKeys?: number } = {}): Promise<TestDevice> {
  const created = await call(ts.url, 'POST', '/v1/devices/link-codes', { auth: primary.auth });
  if (created.status !== 200) throw new Error(`link code: ${created.status} ${JSON.stringify(created.body)}`);
  const code: string = created.body.code;
  const oneTime = PrivateKey.generate();
  const requested = await call(ts.url, 'POST', '/v1/link/request', {
    body: { code, publicKey: Buffer.from(oneTime.getPublicKey().serialize()).toString('base64') },
  });
  if (requested.status !== 200) throw new Error(`link request: ${requested.status} ${JSON.stringify(requested.body)}`);
  const status = await call(ts.url, 'POST', '/v1/devices/link-codes/status', { auth: primary.auth, body: { code } });
  const newDeviceKey = PublicKey.deserialize(Buffer.from(status.body.publicKey, 'base64') as Buffer<ArrayBuffer>);
  const secrets = Buffer.from(JSON.stringify({ identity: Buffer.from(primary.identity.serialize()).toString('base64') }));
  const sealed = newDeviceKey.seal(secrets as Buffer<ArrayBuffer>, 'kluis-link');
  const provisioned = await call(ts.url, 'POST', '/v1/devices/link-codes/provision', {
    auth: primary.auth,
    body: { code, sealed: Buffer.from(sealed).toString('base64') },
  });
  if (provisioned.status !== 200) throw new Error(`provision: ${provisioned.status} ${JSON.stringify(provisioned.body)}`);
  const fetched = await call(ts.url, 'POST', '/v1/link/fetch', { body: { code } });
  const opened = JSON.parse(Buffer.from(oneTime.open(Buffer.from(fetched.body.sealed, 'base64') as Buffer<ArrayBuffer>, 'kluis-link')).toString());
  const { IdentityKeyPair } = await import('@signalapp/libsignal-client');
  const identity = IdentityKeyPair.deserialize(Buffer.from(opened.identity, 'base64') as Buffer<ArrayBuffer>);
  const keys = generateDeviceKeys(identity, { preKeys: opts.preKeys ?? 2, kyberPreKeys: opts.kyberPreKeys ?? 2 });
  const password = newPassword();
  const registrationId = newRegistrationId();
  const done = await call(ts.url, 'POST', '/v1/link/complete', { body: { code, registrationId, password, ...keys.upload } });
  if (done.status !== 200) throw new Error(`link complete: ${done.status} ${JSON.stringify(done.body)}`);
  return {
    accountId: done.body.accountId,
    deviceId: done.body.deviceId,
    username: primary.username,
    password,
    auth: deviceAuthorization(done.body.accountId, done.body.deviceId, password),
    registrationId,
    identity,
    keys,
    signal: new MemorySignalStores(identity, registrationId, keys),
  };
}

/** One opaque ciphertext per listed device. */
export function sendBody(devices: Array<{ deviceId: number; registrationId: number }>, content: Buffer | string = 'hello', type = 2) {
  const bytes = typeof content === 'string' ? Buffer.from(content) : content;
  return {
    timestamp: Date.now(),
    messages: devices.map((d) => ({ deviceId: d.deviceId, registrationId: d.registrationId, type, content: bytes.toString('base64') })),
  };
}
