import { AppErrorCode, MAX_AVATAR_BYTES } from '../api/index.js';
import { AppError } from '../errors.js';
import { avatarDataUrl, imageType } from '../avatar.js';
import { defineRoute } from '../route.js';
import { client, ok } from '../input.js';

/** Devices (list, remove, link a new one) and the account (profile name and picture, subscription, renewal, invites). */
export const accountRoutes = [
  defineRoute('devices', async (c) => client(c).devices.list()),

  defineRoute('removeDevice', async (c) => {
    const id = Number(c.params.id);
    if (!Number.isInteger(id) || id < 1) throw new AppError(400, AppErrorCode.BadDevice, 'not a device id');
    await client(c).devices.remove(id);
    return ok;
  }),

  defineRoute('startLink', async (c) => c.session.startLink()),

  defineRoute('answerLink', async (c) => {
    c.session.answerLink(c.body.code, c.body.approve);
    return ok;
  }),

  defineRoute('account', async (c) => {
    const cl = client(c);
    const account = cl.account!;
    const subscription = await cl.subscription.info().catch(() => null);
    const own = await cl.profile.get();
    return { ...account, name: own?.name ?? '', avatar: avatarDataUrl(own?.avatar), subscription };
  }),

  defineRoute('setProfile', async (c) => {
    const b = c.body;
    const cl = client(c);
    let avatar: Uint8Array<ArrayBuffer> | undefined;
    if (b.avatar === undefined) {
      const kept = (await cl.profile.get())?.avatar;
      avatar = kept ? new Uint8Array(kept) : undefined;
    } else if (b.avatar !== null) {
      avatar = new Uint8Array(Buffer.from(b.avatar, 'base64'));
      if (avatar.byteLength > MAX_AVATAR_BYTES) throw new AppError(413, AppErrorCode.AvatarTooLarge, 'the profile picture is larger than 64 KiB');
      if (!imageType(avatar)) throw new AppError(400, AppErrorCode.BadAvatar, 'the profile picture is not a JPEG, PNG, GIF or WebP image');
    }
    await cl.profile.set(avatar ? { name: b.name.trim(), avatar } : { name: b.name.trim() });
    return ok;
  }),

  defineRoute('renew', async (c) => client(c).subscription.renew(c.body.code.trim())),

  defineRoute('createInvite', async (c) => client(c).subscription.createInvite()),
];
