import { defineRoute } from '../route.js';
import { client, conversation, ok, username } from '../input.js';

export const groupRoutes = [
  defineRoute('groups', async (c) => client(c).groups.list()),

  defineRoute('createGroup', async (c) => {
    const cl = client(c);
    const members = [...new Set(c.body.members.map(username))].filter((u) => u !== cl.account?.username);
    return { conversation: await cl.groups.create(c.body.title.trim(), members) };
  }),

  defineRoute('changeMembers', async (c) => {
    const b = c.body;
    const cl = client(c);
    const conv = conversation(c.params.conv);
    if (b.add?.length) await cl.groups.addMembers(conv, b.add.map(username));
    if (b.remove?.length) await cl.groups.removeMembers(conv, b.remove.map(username));
    if (b.promote) await cl.groups.promote(conv, username(b.promote));
    return (await cl.groups.find(conv)) ?? null;
  }),

  defineRoute('renameGroup', async (c) => {
    await client(c).groups.rename(conversation(c.params.conv), c.body.title.trim());
    return ok;
  }),

  defineRoute('leaveGroup', async (c) => {
    await client(c).groups.leave(conversation(c.params.conv));
    return ok;
  }),
];
