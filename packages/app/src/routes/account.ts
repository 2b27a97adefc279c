import * as S from '../schemas.js';
import { AppError } from '../errors.js';
import { avatarDataUrl, imageType } from '../avatar.js';
import { client, defineRoutes, ok } from '../route-kit.js';

/** Devices (list, remove, link a new one) and the account (profile name and picture, subscription, renewal, invites). */
export const accountRoutes = defineRoutes((route) => {
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

  route('GET', '/api/account', async (c) => {
    const cl = client(c);
    const account = cl.account!;
    const subscription = await cl.subscription().catch(() => null);
    const own = await cl.ownProfile();
    return { ...account, name: own?.name ?? '', avatar: avatarDataUrl(own?.avatar), subscription };
  });

  route('POST', '/api/account/profile', async (c) => {
    const b = S.parse(S.ProfileBody, await c.body());
    const cl = client(c);
    let avatar: Uint8Array<ArrayBuffer> | undefined;
    if (b.avatar === undefined) {
      const kept = (await cl.ownProfile())?.avatar;
      avatar = kept ? new Uint8Array(kept) : undefined;
    } else if (b.avatar !== null) {
      avatar = new Uint8Array(Buffer.from(b.avatar, 'base64'));
      if (avatar.byteLength > S.MAX_AVATAR_BYTES) throw new AppError(413, 'AVATAR_TOO_LARGE', 'the profile picture is larger than 64 KiB');
      if (!imageType(avatar)) throw new AppError(400, 'BAD_AVATAR', 'the profile picture is not a JPEG, PNG, GIF or WebP image');
    }
    await cl.setProfile(avatar ? { name: b.name.trim(), avatar } : { name: b.name.trim() });
    return ok;
  });

  route('POST', '/api/account/renew', async (c) => {
    const b = S.parse(S.RenewBody, await c.body());
    return client(c).renew(b.code.trim());
  });

  route('POST', '/api/account/invite', async (c) => client(c).createInvite());
});
