import type { CallSignal } from '@kluis/sdk';
import { conversation, client, ok } from '../input.js';
import { defineRoute } from '../route.js';

/** Call signalling and the call log; the media runs in the page (WebRTC), never here. */
export const callRoutes = [
  defineRoute('callSignal', async (c) => {
    await client(c).calls.signal(conversation(c.params.conv), c.body as CallSignal);
    return ok;
  }),

  defineRoute('callConfig', async (c) => {
    const r = await client(c).calls.relay();
    if (r.urls.length === 0 || !r.username || !r.credential) return { relay: null };
    return { relay: { urls: r.urls, username: r.username, credential: r.credential, expiresAt: r.expiresAt ?? 0 } };
  }),

  defineRoute('calls', async (c) => client(c).calls.history({ limit: 200 })),

  defineRoute('dismissCall', async (c) => {
    client(c).calls.dismiss(c.params.id);
    return ok;
  }),
];
