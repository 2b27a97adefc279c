import * as S from '../schemas.js';
import { client, defineRoutes, username } from '../route-kit.js';

/** The page's first calls: which state the profile is in, register or link, unlock, lock. */
export const onboardingRoutes = defineRoutes((route) => {
  route('GET', '/api/state', async ({ session }) => {
    const cl = session.state === 'unlocked' ? session.requireClient() : undefined;
    return {
      state: session.state,
      profile: session.profileName,
      account: cl?.account ?? null,
      connected: cl?.isConnected ?? false,
      ...(session.state === 'new' && session.defaultServerUrl ? { defaultServerUrl: session.defaultServerUrl } : {}),
    };
  });

  route('POST', '/api/register', async (c) => {
    const b = S.parse(S.RegisterBody, await c.body());
    await c.session.register({ ...b, username: username(b.username), deviceName: b.deviceName || 'app' });
    return { state: c.session.state, account: client(c).account };
  });

  route('POST', '/api/link', async (c) => {
    const b = S.parse(S.LinkBody, await c.body());
    await c.session.link({ ...b, deviceName: b.deviceName || 'app' });
    return { state: c.session.state, account: client(c).account };
  });

  route('POST', '/api/unlock', async (c) => {
    const b = S.parse(S.UnlockBody, await c.body());
    await c.session.unlock(b.passphrase);
    return { state: c.session.state };
  });

  route('POST', '/api/lock', async (c) => {
    await c.session.lock();
    return { state: c.session.state };
  });
});
