import { randomBytes, randomInt } from 'node:crypto';
import { IdentityKeyPair, KEMKeyPair, PrivateKey } from '@signalapp/libsignal-client';
import { deviceAuthorization, Routes, routeParts, type RegisterRequest, type RegisterResponse } from '@kluis/protocol';

export interface BenchPeer {
  accountId: string;
  registrationId: number;
  authorization: string;
  /** The account's unidentified-access key (set at registration), for sealed sends to it. */
  accessKey: Uint8Array;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');

/** Real keys, as a client would make them: the server verifies the signatures. */
function registrationBody(inviteCode: string, username: string): { body: RegisterRequest; password: string } {
  const identity = IdentityKeyPair.generate();
  const signed = PrivateKey.generate().getPublicKey().serialize();
  const kyber = KEMKeyPair.generate().getPublicKey().serialize();
  const password = randomBytes(24).toString('base64url');
  return {
    password,
    body: {
      inviteCode,
      username,
      identityKey: b64(identity.publicKey.serialize()),
      registrationId: randomInt(1, 0x3fff),
      password,
      signedPreKey: { keyId: 1, publicKey: b64(signed), signature: b64(identity.privateKey.sign(signed)) },
      kyberLastResort: { keyId: 1, publicKey: b64(kyber), signature: b64(identity.privateKey.sign(kyber)) },
      preKeys: [],
      kyberPreKeys: [],
    },
  };
}

/** POST /admin/invites with the operator token, 1,000 at a time. */
export async function mintInviteCodes(url: string, operatorToken: string, count: number): Promise<string[]> {
  const codes: string[] = [];
  const { method, path } = routeParts(Routes.createInvites);
  while (codes.length < count) {
    const res = await fetch(new URL(path, url), {
      method,
      headers: { authorization: `Bearer ${operatorToken}`, 'content-type': 'application/json' },
      body: JSON.stringify({ count: Math.min(1000, count - codes.length) }),
    });
    if (!res.ok) throw new Error(`minting invites: ${res.status} ${await res.text()}`);
    codes.push(...((await res.json()) as { codes: string[] }).codes);
  }
  return codes;
}

/** POST /v1/accounts: registers one account with its first device. */
export async function postRegistration(url: string, body: RegisterRequest): Promise<RegisterResponse> {
  const { method, path } = routeParts(Routes.register);
  const res = await fetch(new URL(path, url), {
    method,
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  });
  if (!res.ok) throw new Error(`registering ${body.username}: ${res.status} ${await res.text()}`);
  return (await res.json()) as RegisterResponse;
}

/** PUT /v1/accounts/access-key: sealed sends to the account need this key. */
async function putAccessKey(url: string, authorization: string, key: Uint8Array): Promise<void> {
  const { method, path } = routeParts(Routes.setAccessKey);
  const res = await fetch(new URL(path, url), {
    method,
    headers: { authorization, 'content-type': 'application/json' },
    body: JSON.stringify({ accessKey: Buffer.from(key).toString('base64'), unrestricted: false }),
  });
  if (!res.ok) throw new Error(`setting an access key: ${res.status} ${await res.text()}`);
}

/** Registers `count` accounts (one device each) through the real API, `concurrency` at a time. */
export async function registerPeers(
  url: string,
  operatorToken: string,
  count: number,
  progress: (done: number) => void,
): Promise<BenchPeer[]> {
  const invites = await mintInviteCodes(url, operatorToken, count);
  const peers: BenchPeer[] = new Array(count);
  let next = 0;
  let done = 0;
  const worker = async () => {
    while (next < count) {
      const i = next++;
      const { body, password } = registrationBody(invites[i]!, `bench_${i}`);
      const { accountId, deviceId } = await postRegistration(url, body);
      const authorization = deviceAuthorization(accountId, deviceId, password);
      const accessKey = randomBytes(16);
      await putAccessKey(url, authorization, accessKey);
      peers[i] = { accountId, registrationId: body.registrationId, authorization, accessKey };
      if (++done % 250 === 0 || done === count) progress(done);
    }
  };
  await Promise.all(Array.from({ length: 16 }, worker));
  return peers;
}
