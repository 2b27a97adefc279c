import { IdentityKeyPair, PrivateKey, PublicKey } from '@signalapp/libsignal-client';
import { LINK_CODE_TTL_MS, normalizeCode, PRIMARY_DEVICE_ID } from '@kluis/protocol';
import { KluisError, TimeoutError } from './errors.js';
import { PROFILE_KEY_BYTES } from './profiles/profile-crypto.js';
import { b64, linkVerificationNumber, unb64 } from './keys.js';
import { accountFor, deviceUpload, newDeviceKeys, uploadNewDevice, type Enrolment } from './registration.js';
import { HttpApi, normalizeServerUrl } from './transport/http.js';

const PROVISION_INFO = 'kluis link provision v1';
const DEFAULT_POLL_INTERVAL_MS = 500;

/** What the primary seals to the new device: just enough to act as the same account. */
interface ProvisionPayload {
  v: 1;
  identityKeyPair: string;
  accountId: string;
  username: string;
  /**
   * The account's profile key (base64), so the new device's first messages already carry it
   * and it can edit the profile; the sync that follows the link repeats it. Absent from
   * primaries that had none yet.
   */
  profileKey?: string;
}

export interface LinkHost extends Enrolment {
  /** Throws once the client is closed, which ends any wait. */
  assertOpen(): void;
  pollIntervalMs(): number | undefined;
  refreshOwnDevices(): Promise<unknown>;
}

export async function createLinkCode(host: LinkHost): Promise<{ code: string; expiresAt: number }> {
  host.ctx.me();
  return host.ctx.api().createLinkCode();
}

/** Primary side: see Client.approveLink. */
export async function approveLink(
  host: LinkHost,
  code: string,
  o: { confirm: (verification: string) => boolean | Promise<boolean>; timeoutMs?: number; profileKey?: Uint8Array },
): Promise<{ deviceId: number }> {
  const { ctx } = host;
  const me = ctx.me();
  const api = ctx.api();
  const deadline = Date.now() + (o.timeoutMs ?? LINK_CODE_TTL_MS);
  const requested = await poll(host, deadline, 'the new device to request the link', async () => {
    const s = await api.linkStatus(code);
    if (s.state === 'waiting') return undefined;
    if (s.state !== 'requested' || !s.publicKey) throw new KluisError('LINK_STATE', `the link code is already ${s.state}`);
    return s.publicKey;
  });
  const publicKey = unb64(requested);
  if (!(await o.confirm(linkVerificationNumber(publicKey))))
    throw new KluisError('LINK_REJECTED', 'the verification number was not confirmed; nothing was sent');
  const payload: ProvisionPayload = {
    v: 1,
    identityKeyPair: b64(me.identityKeyPair.serialize()),
    accountId: me.accountId,
    username: me.username,
    ...(o.profileKey ? { profileKey: b64(o.profileKey) } : {}),
  };
  // The code is the associated data: the sealed secrets open only for this link.
  const sealed = PublicKey.deserialize(publicKey).seal(
    new TextEncoder().encode(JSON.stringify(payload)),
    PROVISION_INFO,
    new TextEncoder().encode(normalizeCode(code)),
  );
  await api.provisionLink(code, b64(sealed));
  const deviceId = await poll(host, deadline, 'the new device to complete the link', async () => {
    const s = await api.linkStatus(code);
    return s.state === 'linked' && s.deviceId ? s.deviceId : undefined;
  });
  ctx.setOwnDevices([...ctx.ownDevices(), deviceId]);
  return { deviceId };
}

/** New device side: see Client.link. */
export async function link(
  host: LinkHost,
  o: { serverUrl: string; code: string; deviceName?: string; onVerification?: (verification: string) => void; timeoutMs?: number },
): Promise<void> {
  const serverUrl = normalizeServerUrl(o.serverUrl);
  const api = new HttpApi(serverUrl);
  const deadline = Date.now() + (o.timeoutMs ?? LINK_CODE_TTL_MS);
  const oneTime = PrivateKey.generate();
  const pub = oneTime.getPublicKey().serialize();
  await api.linkRequest(o.code, b64(pub));
  o.onVerification?.(linkVerificationNumber(pub));
  const sealed = await poll(host, deadline, 'the primary device to approve the link', async () => {
    const r = await api.linkFetch(o.code);
    if (r.state === 'provisioned' && r.sealed) return r.sealed;
    if (r.state === 'linked') throw new KluisError('LINK_STATE', 'the link code was already used');
    return undefined;
  });
  let payload: ProvisionPayload;
  try {
    payload = JSON.parse(
      new TextDecoder().decode(oneTime.open(unb64(sealed), PROVISION_INFO, new TextEncoder().encode(normalizeCode(o.code)))),
    ) as ProvisionPayload;
  } catch (e) {
    throw new KluisError('LINK_FAILED', 'could not open the account secrets sent by the primary device', { cause: e });
  }
  const k = newDeviceKeys(host.ctx, IdentityKeyPair.deserialize(unb64(payload.identityKeyPair)));
  const res = await uploadNewDevice(host.ctx, () => api.linkComplete({ code: o.code, ...deviceUpload(k, o.deviceName) }));
  if (res.accountId !== payload.accountId) throw new KluisError('LINK_FAILED', 'the server linked a different account');
  host.adopt(accountFor(k, { accountId: res.accountId, username: payload.username, deviceId: res.deviceId, serverUrl }), [
    PRIMARY_DEVICE_ID,
    res.deviceId,
  ]);
  if (typeof payload.profileKey === 'string' && unb64(payload.profileKey).length === PROFILE_KEY_BYTES) host.ctx.data.set('profileKey', payload.profileKey);
  // Best effort: the list is refreshed again on every connect.
  await host.refreshOwnDevices().catch(() => {});
}

/** Calls `step` every poll interval until it returns a value; throws TimeoutError at `deadline`. */
async function poll<T>(host: LinkHost, deadline: number, what: string, step: () => Promise<T | undefined>): Promise<T> {
  const interval = host.pollIntervalMs() ?? DEFAULT_POLL_INTERVAL_MS;
  for (;;) {
    host.assertOpen();
    const v = await step();
    if (v !== undefined) return v;
    if (Date.now() + interval > deadline) throw new TimeoutError(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, interval));
  }
}
