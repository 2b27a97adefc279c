import { defineRoute } from '../route.js';
import { client, username } from '../input.js';

/** The page's first calls: which state the profile is in, register or link, unlock, lock. */
export const onboardingRoutes = [
  defineRoute('state', async ({ session }) => {
    const cl = session.state === 'unlocked' ? session.requireClient() : undefined;
    return {
      state: session.state,
      profile: session.profileName,
      account: cl?.account ?? null,
      connected: cl?.isConnected ?? false,
      ...(session.state === 'new' && session.defaultServerUrl ? { defaultServerUrl: session.defaultServerUrl } : {}),
    };
  }),

  defineRoute('register', async (c) => {
    const b = c.body;
    await c.session.register({ ...b, username: username(b.username), deviceName: b.deviceName || 'app' });
    return { state: c.session.state, account: client(c).account ?? null };
  }),

  defineRoute('link', async (c) => {
    const b = c.body;
    await c.session.link({ ...b, deviceName: b.deviceName || 'app' });
    return { state: c.session.state, account: client(c).account ?? null };
  }),

  defineRoute('unlock', async (c) => {
    await c.session.unlock(c.body.passphrase);
    return { state: c.session.state };
  }),

  defineRoute('lock', async (c) => {
    await c.session.lock();
    return { state: c.session.state };
  }),
];
