import type { Command } from 'commander';
import { UsageError } from '../errors.js';
import { formatTimer } from '../durations.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { username, usernames, withSession, type GroupInfo, type Session } from '../session.js';

const GROUP_ARG = 'GROUP: the group title (quote it if it has spaces; a leading "#" is allowed) or its id (g:… or the 64 hex digits).';

function groupJson(g: GroupInfo): Record<string, unknown> {
  return {
    id: g.id,
    conversation: g.conversation,
    title: g.title,
    version: g.version,
    expireTimer: g.expireTimer,
    members: g.members.map((m) => ({ username: m.username, accountId: m.accountId, admin: m.admin })),
  };
}

function memberList(g: GroupInfo): string {
  return g.members.map((m) => `${m.username}${m.admin ? ' (admin)' : ''}`).join(', ');
}

function title(text: string): string {
  const t = text.trim();
  if (!t) throw new UsageError('a group title cannot be empty');
  if (Buffer.byteLength(t, 'utf8') > 256) throw new UsageError('a group title is at most 256 bytes');
  return t;
}

/** Changes build on the latest state: an admin promotion or a rename may still wait on the server. */
async function current(session: Session, ref: string): Promise<GroupInfo> {
  await session.sync();
  return session.group(ref);
}

export function registerGroupCommands(program: Command, io: CliIo): void {
  const group = program
    .command('group')
    .description('groups: create, list, show, add/remove members, promote, rename, leave')
    .addHelpText('after', `\n${GROUP_ARG}\nTo message a group: kluis send "#TITLE" TEXT (see "kluis send --help").`);

  group
    .command('create <name>')
    .description('create a group with you as its admin')
    .option('--members <usernames>', 'comma-separated usernames to add, e.g. bob,carol', '')
    .option('--json', 'print JSON: the new group')
    .action(async (name: string, opts: { members: string; json?: boolean }, cmd: Command) => {
      const t = title(name);
      const members = usernames([opts.members]);
      await withSession(io, cmd, async ({ client }) => {
        const duplicate = (await client.groups.list()).some((g) => g.title === t);
        const conversation = await client.groups.create(t, members);
        const g = await client.groups.find(conversation);
        if (opts.json) return jsonLine(io.stdout, g ? groupJson(g) : { conversation, title: t });
        line(io.stdout, `created group "${t}" (${conversation})${g && g.members.length > 1 ? ` with ${memberList(g)}` : ''}`);
        if (duplicate) line(io.stderr, `note: you are in another group called "${t}"; address this one by its id`);
      });
    });

  group
    .command('list')
    .description('list your groups (also those you have left, marked so)')
    .option('--json', 'print JSON: an array of groups, each with "member": whether you are still in it')
    .action(async (opts: { json?: boolean }, cmd: Command) => {
      await withSession(io, cmd, async (session) => {
        await session.sync();
        const groups = await session.client.groups.list();
        const me = session.client.account!.accountId;
        if (opts.json) return jsonLine(io.stdout, groups.map((g) => ({ ...groupJson(g), member: g.members.some((m) => m.accountId === me) })));
        if (groups.length === 0) return line(io.stderr, 'no groups yet: create one with "kluis group create NAME --members a,b"');
        for (const g of groups) {
          const mine = g.members.find((m) => m.accountId === me);
          const role = !mine ? ', you are no longer a member' : mine.admin ? ', you are admin' : '';
          line(io.stdout, `${g.title}  (${g.conversation})  ${g.members.length} member${g.members.length === 1 ? '' : 's'}${role}`);
        }
      });
    });

  group
    .command('info <group>')
    .description("show a group's title, id, members and roles, and timer")
    .option('--json', 'print JSON')
    .addHelpText('after', `\n${GROUP_ARG}`)
    .action(async (ref: string, opts: { json?: boolean }, cmd: Command) => {
      await withSession(io, cmd, async (session) => {
        await session.sync();
        const g = await session.group(ref);
        if (opts.json) return jsonLine(io.stdout, groupJson(g));
        line(io.stdout, g.title);
        line(io.stdout, `id:       ${g.conversation}`);
        line(io.stdout, `members:  ${memberList(g)}`);
        line(io.stdout, `timer:    ${formatTimer(g.expireTimer)}`);
        line(io.stdout, `version:  ${g.version}`);
      });
    });

  group
    .command('add <group> <usernames...>')
    .description('add members (admins only); they do not see earlier messages')
    .addHelpText('after', `\n${GROUP_ARG}`)
    .action(async (ref: string, users: string[], _opts: unknown, cmd: Command) => {
      const list = usernames(users);
      await withSession(io, cmd, async (session) => {
        const g = await current(session, ref);
        await session.client.groups.addMembers(g.conversation, list);
        line(io.stdout, `added ${list.join(', ')} to "${g.title}"`);
      });
    });

  group
    .command('remove <group> <usernames...>')
    .description('remove members (admins only); they cannot read anything sent afterwards')
    .addHelpText('after', `\n${GROUP_ARG}`)
    .action(async (ref: string, users: string[], _opts: unknown, cmd: Command) => {
      const list = usernames(users);
      await withSession(io, cmd, async (session) => {
        const g = await current(session, ref);
        await session.client.groups.removeMembers(g.conversation, list);
        line(io.stdout, `removed ${list.join(', ')} from "${g.title}"`);
      });
    });

  group
    .command('promote <group> <username>')
    .description('make a member an admin (admins only)')
    .addHelpText('after', `\n${GROUP_ARG}`)
    .action(async (ref: string, user: string, _opts: unknown, cmd: Command) => {
      const u = username(user);
      await withSession(io, cmd, async (session) => {
        const g = await current(session, ref);
        await session.client.groups.promote(g.conversation, u);
        line(io.stdout, `${u} is now an admin of "${g.title}"`);
      });
    });

  group
    .command('rename <group> <name>')
    .description('change the group title (admins only)')
    .addHelpText('after', `\n${GROUP_ARG}`)
    .action(async (ref: string, name: string, _opts: unknown, cmd: Command) => {
      const t = title(name);
      await withSession(io, cmd, async (session) => {
        const g = await current(session, ref);
        await session.client.groups.rename(g.conversation, t);
        line(io.stdout, `renamed "${g.title}" to "${t}"`);
      });
    });

  group
    .command('leave <group>')
    .description('leave a group (the others are told; you receive nothing from it afterwards)')
    .addHelpText('after', `\n${GROUP_ARG}`)
    .action(async (ref: string, _opts: unknown, cmd: Command) => {
      await withSession(io, cmd, async (session) => {
        const g = await current(session, ref);
        await session.client.groups.leave(g.conversation);
        line(io.stdout, `left "${g.title}"`);
      });
    });
}
