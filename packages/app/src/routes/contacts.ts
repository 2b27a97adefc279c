import { SdkErrorCode } from '@kluis/sdk';
import { AppError } from '../errors.js';
import { avatarDataUrl } from '../avatar.js';
import { defineRoute } from '../route.js';
import { client, ok, username } from '../input.js';

/** Safety numbers, the verified mark, and accepting a changed identity key. */
export const contactRoutes = [
  defineRoute('contact', async (c) => {
    const cl = client(c);
    const u = username(c.params.username);
    const safetyNumber = await cl.identity.safetyNumber(u);
    const profile = await cl.contacts.profile(u).catch(() => undefined);
    return {
      username: u,
      name: profile?.name ?? null,
      avatar: avatarDataUrl(profile?.avatar),
      safetyNumber,
      verified: cl.identity.status(u).verified,
      identityChanged: cl.identity.status(u).state === 'changed',
    };
  }),

  defineRoute('verify', async (c) => {
    const cl = client(c);
    const u = username(c.params.username);
    if (c.body.verified && cl.identity.status(u).state === 'changed') throw new AppError(409, SdkErrorCode.IdentityChanged, 'accept the new safety number first');
    // Marking needs the identity row, which computing the safety number creates on first use.
    if (c.body.verified) await cl.identity.safetyNumber(u);
    await cl.identity.setVerified(u, c.body.verified);
    return ok;
  }),

  defineRoute('trust', async (c) => {
    const cl = client(c);
    const u = username(c.params.username);
    await cl.identity.trust(u); // a new key is not verified
    c.session.emit('identity-accepted', { username: u });
    return ok;
  }),
];
