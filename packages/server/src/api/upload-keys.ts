import { PublicKey } from '@signalapp/libsignal-client';
import { ErrorCode, KeyUploadRequest, PreKeyCountResponse } from '@kluis/protocol';
import { ApiError, notFound } from '../errors.js';
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
    await ctx.subscriptions.assertCanConnect(auth.accountId, 'prekeys cannot be uploaded');
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
      const counts = await prekeys.counts(trx, auth.accountId, auth.deviceId);
      // Counted after the upsert (a re-uploaded id replaces its key); the throw rolls the upload back.
      const over = tooManyPreKeys(counts, ecKeys.length, kyberKeys.length, ctx.config.maxPreKeys);
      if (over) throw over;
      return counts;
    });
  },
});

/**
 * Refuses rather than replacing old keys: a replaced key may already sit in a bundle a
 * contact fetched, and the SDK never comes near the cap (it tops up to 100, one
 * upload's worth), so only a misbehaving client meets this.
 */
function tooManyPreKeys(counts: { preKeys: number; kyberPreKeys: number }, ec: number, kyber: number, max: number): ApiError | undefined {
  const kinds: Array<[string, number, number]> = [
    ['EC', counts.preKeys, ec],
    ['Kyber', counts.kyberPreKeys, kyber],
  ];
  for (const [kind, total, uploaded] of kinds) {
    if (uploaded > 0 && total > max) {
      return new ApiError(
        ErrorCode.TooManyPreKeys,
        `this upload would leave the device ${total} one-time ${kind} prekeys; the server keeps at most ${max} per device, so upload fewer (or wait until some are used)`,
        { max },
      );
    }
  }
  return undefined;
}
