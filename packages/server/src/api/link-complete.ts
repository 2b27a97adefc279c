import { PublicKey } from '@signalapp/libsignal-client';
import { ErrorCode, LinkCompleteRequest, LinkCompleteResponse, MAX_DEVICES_PER_ACCOUNT } from '@kluis/protocol';
import { invalidLinkCode, linkCodeHash, lowestFreeDeviceId, wrongLinkState } from '../accounts/link-codes.js';
import { newDevice } from '../accounts/new-device.js';
import { ApiError } from '../errors.js';
import { verifyDeviceKeys } from '../keys/device-keys.js';
import { defineRoute } from './route.js';
import { addressSource } from './source-address.js';

/**
 * Step 4b (new device): its keys must be signed by the account identity key, which it
 * can only have from the sealed secrets, so a code thief without them gets nowhere.
 */
export const linkComplete = defineRoute({
  name: 'linkComplete',
  auth: 'none',
  body: LinkCompleteRequest,
  response: LinkCompleteResponse,
  async handler(ctx, { body, http }) {
    const hash = linkCodeHash(body.code);
    ctx.limits.take('linkCodeGuess', addressSource(http.request.ip).source);
    const { accounts, devices, linkCodes, prekeys } = ctx.stores;
    const code = await linkCodes.live(ctx.db, hash, ctx.clock());
    if (!code) throw invalidLinkCode();
    ctx.limits.refund('linkCodeGuess', addressSource(http.request.ip).source);
    // Per live code, after the lookup: unknown codes are the per-source bucket's (a fresh
    // bucket per guessed code would bound nothing, and its node-wide share would let one
    // guesser block every real linking on the node).
    ctx.limits.take('linkCodeUse', hash.toString('base64'));
    // Checked again here, the step that adds the device: the account may have lapsed since.
    await ctx.subscriptions.assertCanLink(code.accountId);
    if (code.state !== 'provisioned') throw wrongLinkState(code.state, 'provisioned');
    const account = await accounts.byId(ctx.db, code.accountId);
    if (!account) throw invalidLinkCode();
    const keys = verifyDeviceKeys(PublicKey.deserialize(account.identityKey as Buffer<ArrayBuffer>), body);
    const passwordHash = await ctx.hasher.hash(body.password);
    const now = ctx.clock();
    const deviceId = await ctx.transaction(async (trx) => {
      const used = await devices.deviceIds(trx, account.id);
      if (used.length >= MAX_DEVICES_PER_ACCOUNT) {
        throw new ApiError(ErrorCode.TooManyDevices, `an account can have at most ${MAX_DEVICES_PER_ACCOUNT} devices; remove one first`);
      }
      const id = lowestFreeDeviceId(used);
      // Conditional on 'provisioned': of two racing completions only one links.
      if (!(await linkCodes.markLinked(trx, hash, id, now))) throw wrongLinkState('changed', 'provisioned');
      await devices.insert(
        trx,
        newDevice({ accountId: account.id, deviceId: id, registrationId: body.registrationId, passwordHash, name: body.name, keys, now }),
      );
      await prekeys.addEc(trx, account.id, id, keys.preKeys);
      await prekeys.addKyber(trx, account.id, id, keys.kyberPreKeys);
      return id;
    });
    ctx.auth.device.remember(account.id, deviceId, body.password);
    return { accountId: account.id, deviceId };
  },
});
