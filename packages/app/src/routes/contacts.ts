import * as S from '../schemas.js';
import { isVerified, identityPending, setVerified } from '../sdk-gaps.js';
import { AppError } from '../errors.js';
import { avatarDataUrl } from '../avatar.js';
import { client, defineRoutes, ok, username } from '../route-kit.js';

/** Safety numbers, the verified mark, and accepting a changed identity key. */
export const contactRoutes = defineRoutes((route) => {
  route('GET', '/api/contacts/:username', async (c) => {
    const cl = client(c);
    const u = username(c.params.username!);
    const safetyNumber = await cl.safetyNumber(u);
    const profile = await cl.profile(u).catch(() => undefined);
    return {
      username: u,
      name: profile?.name ?? null,
      avatar: avatarDataUrl(profile?.avatar),
      safetyNumber,
      verified: isVerified(cl, u, safetyNumber),
      identityChanged: identityPending(cl, u),
    };
  });

  route('POST', '/api/contacts/:username/verify', async (c) => {
    const cl = client(c);
    const u = username(c.params.username!);
    const b = S.parse(S.VerifyBody, await c.body());
    if (b.verified && identityPending(cl, u)) throw new AppError(409, 'IDENTITY_CHANGED', 'accept the new safety number first');
    setVerified(cl, u, b.verified ? await cl.safetyNumber(u) : undefined);
    return ok;
  });

  route('POST', '/api/contacts/:username/trust', async (c) => {
    const cl = client(c);
    const u = username(c.params.username!);
    await cl.trust(u);
    setVerified(cl, u, undefined);
    c.session.emit('identity-accepted', { username: u });
    return ok;
  });
});
