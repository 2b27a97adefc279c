import * as S from '../schemas.js';
import { client, conversation, defineRoutes, ok, username } from '../route-kit.js';

export const groupRoutes = defineRoutes((route) => {
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
});
