import { createReadStream } from 'node:fs';
import { mkdir, stat, unlink } from 'node:fs/promises';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { normalizeUsername } from '@kluis/protocol';
import { IdentityChangedError, ServerError, type Client, type StoredMessage } from '@kluis/sdk';
import { AppError } from './errors.js';
import * as S from './schemas.js';
import { identityPending, isVerified, ownProfileName, pendingIdentities, setVerified } from './sdk-gaps.js';
import type { AppSession } from './session.js';

/** Largest upload the page may hand the host in one request (the server has its own limit). */
export const MAX_UPLOAD_BYTES = 100 * 1024 * 1024;
const MAX_JSON_BYTES = 256 * 1024;

interface Ctx {
  session: AppSession;
  params: Record<string, string>;
  req: IncomingMessage;
  res: ServerResponse;
  body: () => Promise<unknown>;
}

type Handler = (c: Ctx) => Promise<unknown>;
interface Route {
  method: string;
  pattern: RegExp;
  handler: Handler;
}

const routes: Route[] = [];
function route(method: string, path: string, handler: Handler): void {
  const pattern = new RegExp('^' + path.replace(/:(\w+)/g, '(?<$1>[^/]+)') + '$');
  routes.push({ method, pattern, handler });
}

const client = (c: Ctx): Client => c.session.requireClient();
const ok = { ok: true };

function username(raw: string): string {
  const u = normalizeUsername(raw.replace(/^@/, ''));
  if (!S.USERNAME.test(u)) throw new AppError(400, 'BAD_USERNAME', 'a username is 3-32 characters of a-z 0-9 _ .');
  return u;
}

/** The SDK takes a username or a group's conversation id ("g:…"). */
function conversation(raw: string): string {
  return raw.startsWith('g:') ? raw : username(raw);
}

async function ownMessage(cl: Client, id: string): Promise<StoredMessage> {
  // The SDK has no lookup by id: scan local history (a person's, so small enough).
  const m = (await cl.messages({ limit: 100_000 })).find((x) => x.id === id);
  if (!m) throw new AppError(404, 'UNKNOWN_MESSAGE', 'no such message on this device');
  return m;
}

/** A username must exist on the server before a chat with it is shown. */
async function assertUserExists(cl: Client, u: string): Promise<void> {
  try {
    await cl.profile(u);
  } catch (e) {
    if (e instanceof ServerError && e.status === 404) throw new AppError(404, 'UNKNOWN_USER', `there is no user ${u}`);
    throw e;
  }
}

// ------------------------------------------------------------------ state and onboarding

route('GET', '/api/state', async ({ session }) => {
  const cl = session.state === 'unlocked' ? session.requireClient() : undefined;
  return { state: session.state, profile: session.profileName, account: cl?.account ?? null, connected: cl?.isConnected ?? false };
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

// ------------------------------------------------------------------ conversations

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
      files: uploads.map((u) => ({ path: u.path, fileName: u.fileName, contentType: u.contentType })),
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

// ------------------------------------------------------------------ messages

route('POST', '/api/files', async (c) => {
  const name = decodeURIComponent(String(c.req.headers['x-file-name'] ?? 'file')).slice(0, 255) || 'file';
  const type = String(c.req.headers['content-type'] ?? 'application/octet-stream').slice(0, 255);
  const bytes = await readBody(c.req, MAX_UPLOAD_BYTES);
  if (bytes.length === 0) throw new AppError(400, 'EMPTY_FILE', 'the file is empty');
  return { fileId: await c.session.addUpload(bytes, name, type) };
});

route('GET', '/api/messages/:id/attachments/:index', async (c) => {
  const cl = client(c);
  const index = Number(c.params.index);
  const m = await ownMessage(cl, c.params.id!);
  const a = m.attachments?.find((x) => x.index === index);
  if (!a) throw new AppError(404, 'UNKNOWN_ATTACHMENT', 'no such attachment');
  const name = a.fileName ?? `attachment-${index}`;
  const headers = (size: number) => ({
    // Never rendered by the host's origin as a page: the UI turns it into a blob: URL.
    'content-type': a.contentType.startsWith('image/') ? a.contentType : 'application/octet-stream',
    'content-length': size,
    'content-disposition': `attachment; filename*=UTF-8''${encodeURIComponent(name)}`,
    'cache-control': 'no-store',
  });
  const kept = c.session.sentFile(m.id, index);
  if (kept) {
    c.res.writeHead(200, headers(kept.bytes.length));
    c.res.end(kept.bytes);
    return undefined;
  }
  if (m.direction === 'outgoing' && !m.sync) {
    throw new AppError(404, 'NOT_KEPT', 'this device keeps no copy of files it sent before the app was unlocked');
  }
  await mkdir(c.session.tmpDir, { recursive: true, mode: 0o700 });
  const tmp = join(c.session.tmpDir, `down-${randomBytes(8).toString('hex')}`);
  await cl.saveAttachment(m.id, index, tmp);
  c.res.writeHead(200, headers((await stat(tmp)).size));
  await new Promise<void>((resolve, reject) => {
    const s = createReadStream(tmp);
    s.on('error', reject);
    c.res.on('finish', resolve);
    c.res.on('close', resolve);
    s.pipe(c.res);
  }).finally(() => unlink(tmp).catch(() => {}));
  return undefined;
});

route('POST', '/api/messages/:id/reactions', async (c) => {
  const b = S.parse(S.ReactBody, await c.body());
  await client(c).react(c.params.id!, b.emoji, { remove: b.remove ?? false });
  return ok;
});

route('PATCH', '/api/messages/:id', async (c) => {
  const b = S.parse(S.EditBody, await c.body());
  await client(c).edit(c.params.id!, b.text);
  return ok;
});

route('DELETE', '/api/messages/:id', async (c) => {
  const forMe = new URL(c.req.url ?? '', 'http://x').searchParams.get('for') === 'me';
  const id = c.params.id!;
  if (forMe) await client(c).deleteForMe(id);
  else await client(c).deleteForEveryone(id);
  return ok;
});

route('GET', '/api/messages/:id/history', async (c) => client(c).messageHistory(c.params.id!));

// ------------------------------------------------------------------ groups

route('GET', '/api/groups', async (c) => client(c).groups());

route('POST', '/api/groups', async (c) => {
  const b = S.parse(S.NewGroupBody, await c.body());
  const cl = client(c);
  const members = [...new Set(b.members.map(username))].filter((u) => u !== cl.account?.username);
  return { conversation: await cl.createGroup(b.title.trim(), members) };
});

route('POST', '/api/groups/:conv/members', async (c) => {
  const b = S.parse(S.MembersBody, await c.body());
  const cl = client(c);
  const conv = conversation(c.params.conv!);
  if (b.add?.length) await cl.addMembers(conv, b.add.map(username));
  if (b.remove?.length) await cl.removeMembers(conv, b.remove.map(username));
  if (b.promote) await cl.promote(conv, username(b.promote));
  return (await cl.group(conv)) ?? null;
});

route('POST', '/api/groups/:conv/rename', async (c) => {
  const b = S.parse(S.RenameBody, await c.body());
  await client(c).renameGroup(conversation(c.params.conv!), b.title.trim());
  return ok;
});

route('POST', '/api/groups/:conv/leave', async (c) => {
  await client(c).leaveGroup(conversation(c.params.conv!));
  return ok;
});

// ------------------------------------------------------------------ contacts and identity

route('GET', '/api/contacts/:username', async (c) => {
  const cl = client(c);
  const u = username(c.params.username!);
  const safetyNumber = await cl.safetyNumber(u);
  const profile = await cl.profile(u).catch(() => undefined);
  return {
    username: u,
    name: profile?.name ?? null,
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

// ------------------------------------------------------------------ devices

route('GET', '/api/devices', async (c) => client(c).devices());

route('DELETE', '/api/devices/:id', async (c) => {
  const id = Number(c.params.id);
  if (!Number.isInteger(id) || id < 1) throw new AppError(400, 'BAD_DEVICE', 'not a device id');
  await client(c).removeDevice(id);
  return ok;
});

route('POST', '/api/devices/link', async (c) => c.session.startLink());

route('POST', '/api/devices/link/answer', async (c) => {
  const b = S.parse(S.ApproveBody, await c.body());
  c.session.answerLink(b.code, b.approve);
  return ok;
});

// ------------------------------------------------------------------ account

route('GET', '/api/account', async (c) => {
  const cl = client(c);
  const account = cl.account!;
  const subscription = await cl.subscription().catch(() => null);
  return { ...account, name: ownProfileName(cl), subscription };
});

route('POST', '/api/account/profile', async (c) => {
  const b = S.parse(S.ProfileBody, await c.body());
  await client(c).setProfile({ name: b.name.trim() });
  return ok;
});

route('POST', '/api/account/renew', async (c) => {
  const b = S.parse(S.RenewBody, await c.body());
  return client(c).renew(b.code.trim());
});

route('POST', '/api/account/invite', async (c) => client(c).createInvite());

// ------------------------------------------------------------------ plumbing

export function readBody(req: IncomingMessage, limit: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (d: Buffer) => {
      size += d.length;
      if (size > limit) {
        reject(new AppError(413, 'TOO_LARGE', 'request body too large'));
        req.destroy();
        return;
      }
      chunks.push(d);
    });
    req.on('end', () => resolve(Buffer.concat(chunks)));
    req.on('error', reject);
  });
}

async function jsonBody(req: IncomingMessage): Promise<unknown> {
  if (!/^application\/json\b/.test(req.headers['content-type'] ?? '')) throw new AppError(415, 'BAD_CONTENT_TYPE', 'send application/json');
  const raw = await readBody(req, MAX_JSON_BYTES);
  try {
    return raw.length === 0 ? {} : JSON.parse(raw.toString('utf8'));
  } catch {
    throw new AppError(400, 'BAD_JSON', 'the body is not JSON');
  }
}

/** Runs the matching route; undefined when no route matches (a 404 for the caller). */
export function findRoute(method: string, path: string): { handler: Handler; params: Record<string, string> } | undefined {
  for (const r of routes) {
    if (r.method !== method) continue;
    const m = r.pattern.exec(path);
    if (m) return { handler: r.handler, params: { ...(m.groups ?? {}) } };
  }
  return undefined;
}

export async function runRoute(
  found: { handler: Handler; params: Record<string, string> },
  session: AppSession,
  req: IncomingMessage,
  res: ServerResponse,
): Promise<unknown> {
  const params: Record<string, string> = {};
  for (const [k, v] of Object.entries(found.params)) params[k] = decodeURIComponent(v);
  return found.handler({ session, params, req, res, body: () => jsonBody(req) });
}
