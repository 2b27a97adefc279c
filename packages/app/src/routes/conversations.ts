import { unlink } from 'node:fs/promises';
import { IdentityChangedError, ServerError, type Client, type StoredMessage } from '@kluis/sdk';
import { AppError } from '../errors.js';
import * as S from '../schemas.js';
import { identityPending, pendingIdentities } from '../sdk-gaps.js';
import type { AppSession } from '../session.js';
import { client, conversation, defineRoutes, ok, username } from '../route-kit.js';

/** A username must exist on the server before a chat with it is shown. */
async function assertUserExists(cl: Client, u: string): Promise<void> {
  try {
    await cl.profile(u);
  } catch (e) {
    if (e instanceof ServerError && e.status === 404) throw new AppError(404, 'UNKNOWN_USER', `there is no user ${u}`);
    throw e;
  }
}

/**
 * Messages as the SDK stores them, each attachment marked `available` when the host can
 * hand it to the page now (fetched and verified, or one we sent during this session).
 */
function withAvailability(session: AppSession, list: StoredMessage[]): unknown[] {
  return list.map((m) =>
    m.attachments
      ? {
          ...m,
          attachments: m.attachments.map((a) => ({
            ...a,
            available: m.direction === 'outgoing' && !m.sync ? session.sentFile(m.id, a.index) !== undefined : a.state === 'downloaded',
          })),
        }
      : m,
  );
}

export const conversationRoutes = defineRoutes((route) => {
  route('GET', '/api/conversations', async (c) => {
    const cl = client(c);
    const list = await cl.conversations();
    const blocked = new Set(pendingIdentities(cl, list.filter((x) => x.kind === 'direct').map((x) => x.id)));
    return list.map((x) => ({ ...x, identityChanged: blocked.has(x.id) }));
  });

  route('POST', '/api/chats', async (c) => {
    const cl = client(c);
    const u = username(S.parse(S.NewChatBody, await c.body()).username);
    if (u === cl.account?.username) throw new AppError(400, 'SELF', 'that is your own username');
    await assertUserExists(cl, u);
    return { conversation: u };
  });

  route('GET', '/api/conversations/:conv', async (c) => {
    const cl = client(c);
    const conv = conversation(c.params.conv!);
    if (conv.startsWith('g:')) {
      const g = await cl.group(conv);
      if (!g) throw new AppError(404, 'UNKNOWN_GROUP', 'you are not in this group');
      return { id: conv, kind: 'group', title: g.title, group: g, expireTimer: g.expireTimer };
    }
    const found = (await cl.conversations()).find((x) => x.id === conv);
    return { id: conv, kind: 'direct', title: conv, identityChanged: identityPending(cl, conv), expireTimer: found?.expireTimer ?? 0 };
  });

  route('GET', '/api/conversations/:conv/messages', async (c) => {
    const url = new URL(c.req.url ?? '', 'http://x');
    const q = url.searchParams.get('q');
    const conv = conversation(c.params.conv!);
    const list = q ? await client(c).search(q, { conversation: conv, limit: 200 }) : await client(c).messages({ conversation: conv, limit: 500 });
    return withAvailability(c.session, list);
  });

  route('GET', '/api/search', async (c) => {
    const q = new URL(c.req.url ?? '', 'http://x').searchParams.get('q') ?? '';
    return q.trim() ? client(c).search(q, { limit: 100 }) : [];
  });

  route('POST', '/api/conversations/:conv/messages', async (c) => {
    const cl = client(c);
    const b = S.parse(S.SendBody, await c.body());
    const conv = conversation(c.params.conv!);
    const uploads = c.session.takeUploads(b.files ?? []);
    if (!b.text?.trim() && uploads.length === 0) throw new AppError(400, 'EMPTY', 'nothing to send');
    try {
      const m = await cl.send(conv, b.text, {
        ...(b.replyTo ? { replyTo: b.replyTo } : {}),
        files: uploads.map((u) => ({
          path: u.path,
          fileName: u.fileName,
          contentType: u.contentType,
          ...(u.voiceNote ? { voiceNote: true } : {}),
          ...(u.durationMs ? { durationMs: u.durationMs } : {}),
        })),
      });
      await c.session.keepSent(m.id, uploads);
      return withAvailability(c.session, [m])[0];
    } catch (e) {
      if (e instanceof IdentityChangedError) c.session.emit('identity-changed', { username: e.username, accountId: e.accountId });
      throw e;
    } finally {
      await Promise.all(uploads.map((u) => unlink(u.path).catch(() => {})));
    }
  });

  route('POST', '/api/conversations/:conv/read', async (c) => ({ marked: await client(c).markRead(conversation(c.params.conv!)) }));

  route('POST', '/api/conversations/:conv/typing', async (c) => {
    const b = S.parse(S.TypingBody, await c.body());
    try {
      await client(c).typing(conversation(c.params.conv!), b.started);
    } catch (e) {
      // Best effort: a typing indicator is not worth an error while the safety number is unaccepted.
      if (!(e instanceof IdentityChangedError)) throw e;
    }
    return ok;
  });

  route('POST', '/api/conversations/:conv/timer', async (c) => {
    const b = S.parse(S.TimerBody, await c.body());
    await client(c).setTimer(conversation(c.params.conv!), b.seconds);
    return ok;
  });
});
