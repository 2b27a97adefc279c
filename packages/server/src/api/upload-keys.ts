import { PublicKey } from '@signalapp/libsignal-client';
import { KeyUploadRequest, PreKeyCountResponse } from '@kluis/protocol';
import { notFound } from '../errors.js';
import { parsePreKeys, verifyKyberKey, verifyKyberPreKeys, verifySignedPreKey } from '../keys/device-keys.js';
import { defineRoute } from './route.js';

/** Refill one-time keys and/or rotate the signed and last-resort keys. Answers the new counts. */
export const uploadKeys = defineRoute({
  name: 'uploadKeys',
  auth: 'device',
  body: KeyUploadRequest,
  response: PreKeyCountResponse,
  async handler(ctx, { body, auth }) {
    ctx.limits.take('keyUpload', auth.accountId, String(auth.deviceId));
    const { accounts, devices, prekeys } = ctx.stores;
    const account = await accounts.byId(ctx.db, auth.accountId);
    if (!account) throw notFound('no such account');
    const identity = PublicKey.deserialize(account.identityKey as Buffer<ArrayBuffer>);
    const signedPreKey = body.signedPreKey && verifySignedPreKey(identity, body.signedPreKey);
    const kyberLastResort = body.kyberLastResort && verifyKyberKey(identity, body.kyberLastResort, 'kyberLastResort');
    const ecKeys = parsePreKeys(body.preKeys);
    const kyberKeys = verifyKyberPreKeys(identity, body.kyberPreKeys);
    return ctx.transaction(async (trx) => {
      if (signedPreKey) await devices.setSignedPreKey(trx, auth.accountId, auth.deviceId, signedPreKey);
      if (kyberLastResort) await devices.setKyberLastResort(trx, auth.accountId, auth.deviceId, kyberLastResort);
      await prekeys.addEc(trx, auth.accountId, auth.deviceId, ecKeys);
      await prekeys.addKyber(trx, auth.accountId, auth.deviceId, kyberKeys);
      return prekeys.counts(trx, auth.accountId, auth.deviceId);
    });
  },
});
