import { KeysParams, PreKeyBundleResponse, type DeviceBundle } from '@kluis/protocol';
import { notFound } from '../errors.js';
import { defineRoute } from './route.js';

/**
 * Prekey bundles for one device or all ('*'). One-time keys are consumed in the same
 * transaction that reads them, so no key is ever handed to two senders; without
 * one-time Kyber keys the last-resort key is returned. Asking for one's own account
 * with '*' leaves out the asking device (it needs no session with itself).
 */
export const fetchBundles = defineRoute({
  name: 'fetchBundles',
  auth: 'device',
  params: KeysParams,
  response: PreKeyBundleResponse,
  async handler(ctx, { params, auth }) {
    // Per asker and per target (how fast one-time prekeys can be drained): both or neither.
    ctx.limits.take('bundleFetch', auth.accountId);
    try {
      ctx.limits.take('bundleTarget', params.accountId);
    } catch (err) {
      ctx.limits.refund('bundleFetch', auth.accountId);
      throw err;
    }
    const { accounts, devices, prekeys } = ctx.stores;
    const all = params.deviceId === '*';
    const wanted = all ? undefined : Number(params.deviceId);
    return ctx.transaction(async (trx) => {
      const account = await accounts.byId(trx, params.accountId);
      if (!account) throw notFound('no account with that id');
      let list = await devices.list(trx, account.id);
      if (wanted !== undefined) {
        list = list.filter((d) => d.deviceId === wanted);
        if (list.length === 0) throw notFound(`the account has no device ${wanted}`);
      } else if (account.id === auth.accountId) {
        list = list.filter((d) => d.deviceId !== auth.deviceId);
      }
      const bundles: DeviceBundle[] = [];
      for (const d of list) {
        const ec = await prekeys.takeEc(trx, d.accountId, d.deviceId);
        const kyber = (await prekeys.takeKyber(trx, d.accountId, d.deviceId)) ?? d.kyberLastResort;
        bundles.push({
          deviceId: d.deviceId,
          registrationId: d.registrationId,
          signedPreKey: {
            keyId: d.signedPreKey.keyId,
            publicKey: d.signedPreKey.publicKey.toString('base64'),
            signature: d.signedPreKey.signature.toString('base64'),
          },
          ...(ec && { preKey: { keyId: ec.keyId, publicKey: ec.publicKey.toString('base64') } }),
          kyberPreKey: { keyId: kyber.keyId, publicKey: kyber.publicKey.toString('base64'), signature: kyber.signature.toString('base64') },
        });
      }
      return { identityKey: account.identityKey.toString('base64'), devices: bundles };
    });
  },
});
