/**
 * Profiles through the SDK's HTTP transport against the real server (packages/server)
 * on a random port: real SQLite, real libsignal AES-GCM-SIV.
 */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerAccount, type TestDevice } from '../../../server/src/test-support/accounts.js';
import { startTestServer, type TestServer } from '../../../server/src/test-support/test-server.js';
import { ServerError } from '../errors.js';
import { HttpApi } from '../transport/http.js';
import { fetchProfile, generateProfileKey, ProfileUnreadableError, profileVersion, publishProfile } from './index.js';

let ts: TestServer;
let alice: TestDevice;
let bob: TestDevice;
const apiFor = (d: TestDevice) => new HttpApi(ts.url, () => ({ accountId: d.accountId, deviceId: d.deviceId, password: d.password }));

beforeAll(async () => {
  ts = await startTestServer();
  alice = await registerAccount(ts);
  bob = await registerAccount(ts);
});
afterAll(() => ts.close());

/** Every byte the server keeps on disk (database, WAL, anything else in its data dir). */
async function serverBytes(dir: string): Promise<Buffer> {
  const parts: Buffer[] = [];
  for (const entry of await readdir(dir, { withFileTypes: true, recursive: true })) {
    if (entry.isFile()) parts.push(await readFile(join(entry.parentPath, entry.name)));
  }
  return Buffer.concat(parts);
}

describe('profiles over the SDK transport', () => {
  it('alice publishes, bob reads it with the key alice gave him; the server holds only ciphertext', async () => {
    const key = generateProfileKey();
    const avatar = new Uint8Array(Buffer.from('AVATAR-IMAGE-BYTES '.repeat(300)));
    const name = 'Alice Wonderlandia';
    const version = await publishProfile(apiFor(alice), key, alice.accountId, { name, avatar });

    const got = await fetchProfile(apiFor(bob), key, alice.accountId);
    expect(got).toMatchObject({ name, version });
    expect(Buffer.from(got!.avatar!).equals(Buffer.from(avatar))).toBe(true);

    const stored = await apiFor(bob).getProfile(alice.accountId);
    expect(stored!.version).toBe(version);
    const wire = Buffer.from(stored!.ciphertext, 'base64');
    expect(wire.length).toBe(16 * 1024);
    expect(wire.includes(Buffer.from(name))).toBe(false);
    expect(stored!.ciphertext).not.toContain(Buffer.from(name).toString('base64').slice(0, 12));

    const disk = await serverBytes(ts.dataDir);
    expect(disk.includes(wire.subarray(0, 64))).toBe(true); // the profile is in there, sealed
    for (const needle of [name, 'Wonderlandia', 'AVATAR-IMAGE']) {
      expect(disk.includes(Buffer.from(needle, 'utf8'))).toBe(false);
      expect(disk.includes(Buffer.from(needle, 'utf16le'))).toBe(false);
    }
    expect(disk.includes(Buffer.from(key))).toBe(false);
  });

  it('tells a stale key from a fresh one, and follows a key rotation', async () => {
    const oldKey = generateProfileKey();
    await publishProfile(apiFor(alice), oldKey, alice.accountId, { name: 'Alice v1' });
    const newKey = generateProfileKey();
    const pending = await fetchProfile(apiFor(bob), newKey, alice.accountId).catch((e: unknown) => e);
    expect(pending).toBeInstanceOf(ProfileUnreadableError);
    expect(pending).toMatchObject({ code: 'PROFILE_UNREADABLE', stale: true });

    await publishProfile(apiFor(alice), newKey, alice.accountId, { name: 'Alice v2' });
    expect(await fetchProfile(apiFor(bob), newKey, alice.accountId)).toMatchObject({ name: 'Alice v2' });
    await expect(fetchProfile(apiFor(bob), oldKey, alice.accountId)).rejects.toMatchObject({ code: 'PROFILE_UNREADABLE', stale: true });
  });

  it('refuses a profile whose ciphertext does not match its version', async () => {
    const key = generateProfileKey();
    // Bob uploads garbage under the version alice's key would give: it must not open.
    await apiFor(bob).setProfile({ version: profileVersion(key, bob.accountId), ciphertext: Buffer.alloc(1024, 9).toString('base64') });
    await expect(fetchProfile(apiFor(alice), key, bob.accountId)).rejects.toMatchObject({ code: 'PROFILE_UNREADABLE', stale: false });
  });

  it('answers undefined for an account without a profile, and surfaces refusals as ServerError', async () => {
    const carol = await registerAccount(ts);
    expect(await fetchProfile(apiFor(alice), generateProfileKey(), carol.accountId)).toBeUndefined();
    expect(await apiFor(alice).getProfile('00000000-0000-4000-8000-000000000000')).toBeUndefined();
    const refused = await apiFor(carol).setProfile({ version: 'nope', ciphertext: 'AAAA' }).catch((e: unknown) => e);
    expect(refused).toBeInstanceOf(ServerError);
    expect(refused).toMatchObject({ status: 400, code: 'BAD_REQUEST' });
    expect(await apiFor(alice).getProfile(carol.accountId)).toBeUndefined();
    const anonymous = new HttpApi(ts.url);
    await expect(anonymous.getProfile(alice.accountId)).rejects.toMatchObject({ status: 401, code: 'UNAUTHORIZED' });
  });
});
