import { unlink } from 'node:fs/promises';
import { isGroupConversation } from '@kluis/protocol';
import { IdentityChangedError, KluisError, SdkErrorCode, ServerError, type Client, type StoredMessage } from '@kluis/sdk';
import { AppErrorCode, type Message } from '../api/index.js';
import { AppError } from '../errors.js';
import type { AppSession } from '../session.js';
import { defineRoute } from '../route.js';
import { client, conversation, ok, username } from '../input.js';

/** A username must exist on the server before a chat with it is shown. */
async function assertUserExists(cl: Client, u: string): Promise<void> {
  try {
    await cl.contacts.profile(u);
  } catch (e) {
    if (e instanceof ServerError && e.status === 404) throw new AppError(404, AppErrorCode.UnknownUser, `there is no user ${u}`);
    throw e;
  }
}

/**
 * Messages as the SDK stores them, each attachment marked `available` when the host can
 * hand it to the page now (fetched and verified, or one we sent during this session).
 */
function withAvailability(session: AppSession, list: StoredMessage[]): Message[] {
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

export const conversationRoutes = [
  defineRoute('conversations', async (c) => {
    const cl = client(c);
    const list = await cl.conversations.list();
    return list.map((x) => ({ ...x, identityChanged: x.kind === 'direct' && cl.identity.status(x.id).state === 'changed' }));
  }),

  defineRoute('startChat', async (c) => {
    const cl = client(c);
    const u = username(c.body.username);
    // The SDK's own refusal, said before asking the server.
    if (u === cl.account?.username) throw new KluisError(SdkErrorCode.SelfSend, 'that is your own username');
    await assertUserExists(cl, u);
    return { conversation: u };
  }),

  defineRoute('conversation', async (c) => {
    const cl = client(c);
    const conv = conversation(c.params.conv);
    if (isGroupConversation(conv)) {
      const g = await cl.groups.find(conv);
      if (!g) throw new AppError(404, SdkErrorCode.UnknownGroup, 'you are not in this group');
      return { id: conv, kind: 'group' as const, title: g.title, group: g, expireTimer: g.expireTimer };
    }
    const found = (await cl.conversations.list()).find((x) => x.id === conv);
    return { id: conv, kind: 'direct' as const, title: conv, identityChanged: cl.identity.status(conv).state === 'changed', expireTimer: found?.expireTimer ?? 0 };
  }),

  defineRoute('messages', async (c) => {
    const q = c.query.q;
    const conv = conversation(c.params.conv);
    const list = q ? await client(c).messages.search(q, { conversation: conv, limit: 200 }) : await client(c).messages.list({ conversation: conv, limit: 500 });
    return withAvailability(c.session, list);
  }),

  defineRoute('search', async (c) => {
    const q = c.query.q ?? '';
    return q.trim() ? client(c).messages.search(q, { limit: 100 }) : [];
  }),

  defineRoute('send', async (c) => {
    const cl = client(c);
    const b = c.body;
    const conv = conversation(c.params.conv);
    const uploads = c.session.takeUploads(b.files ?? []);
    if (!b.text?.trim() && uploads.length === 0) throw new KluisError(SdkErrorCode.EmptyMessage, 'nothing to send');
    try {
      // With the page's id: a repeated request (a second Enter, a retry after an error, the
      // browser sending a request again) is the same message, never a second one.
      const m = await cl.send(conv, b.text, {
        ...(b.id ? { id: b.id } : {}),
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
      return withAvailability(c.session, [m])[0]!;
    } catch (e) {
      if (e instanceof IdentityChangedError) c.session.emit('identity-changed', { username: e.username, accountId: e.accountId });
      throw e;
    } finally {
      await Promise.all(uploads.map((u) => unlink(u.path).catch(() => {})));
    }
  }),

  defineRoute('markRead', async (c) => ({ marked: await client(c).conversations.markRead(conversation(c.params.conv)) })),

  defineRoute('typing', async (c) => {
    try {
      await client(c).conversations.typing(conversation(c.params.conv), c.body.started);
    } catch (e) {
      // Best effort: a typing indicator is not worth an error while the safety number is unaccepted.
      if (!(e instanceof IdentityChangedError)) throw e;
    }
    return ok;
  }),

  defineRoute('setTimer', async (c) => {
    await client(c).conversations.setTimer(conversation(c.params.conv), c.body.seconds);
    return ok;
  }),
];
