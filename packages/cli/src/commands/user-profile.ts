import { readFile, writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import { MAX_PROFILE_AVATAR_BYTES as MAX_AVATAR, MAX_PROFILE_NAME_BYTES as MAX_NAME_BYTES } from '@kluis/protocol/limits';
import { CliError, UsageError } from '../errors.js';
import { formatBytes } from '../durations.js';
import type { CliIo } from '../io.js';
import { jsonLine, line } from '../io.js';
import { username, withSession } from '../session.js';


export function registerProfileCommands(program: Command, io: CliIo): void {
  const profile = program
    .command('profile')
    .description('your display name and avatar (end-to-end encrypted; contacts and group members get the key), and others\'');

  profile
    .command('set')
    .description('set your display name and avatar; without --avatar the avatar is removed')
    .requiredOption('--name <name>', 'the name others see')
    .option('--avatar <path>', `an image of at most ${MAX_AVATAR / 1024} KiB`)
    .action(async (opts: { name: string; avatar?: string }, cmd: Command) => {
      const name = opts.name.trim();
      if (!name) throw new UsageError('--name cannot be empty');
      if (Buffer.byteLength(name, 'utf8') > MAX_NAME_BYTES) throw new UsageError(`--name is at most ${MAX_NAME_BYTES} bytes`);
      let avatar: Uint8Array<ArrayBuffer> | undefined;
      if (opts.avatar !== undefined) {
        const bytes = await readFile(opts.avatar).catch((e: NodeJS.ErrnoException) => {
          throw new CliError(`cannot read ${opts.avatar}: ${e.code === 'ENOENT' ? 'no such file' : e.message}`, 'FILE_UNREADABLE');
        });
        if (bytes.length > MAX_AVATAR) throw new UsageError(`the avatar is ${formatBytes(bytes.length)}; the limit is ${formatBytes(MAX_AVATAR)} (make it smaller first)`);
        avatar = new Uint8Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.length) as ArrayBuffer);
      }
      await withSession(io, cmd, async ({ client }) => {
        await client.profile.set(avatar ? { name, avatar } : { name });
        line(io.stdout, `profile set: ${name}${avatar ? ` with a ${formatBytes(avatar.length)} avatar` : ''}`);
      });
    });

  profile
    .command('show <username>')
    .description("show someone's name and avatar size (known once they have messaged you or share a group with you)")
    .option('--save-avatar <path>', 'write their avatar to a file')
    .option('--json', 'print JSON: { username, name, avatarBytes }')
    .action(async (user: string, opts: { saveAvatar?: string; json?: boolean }, cmd: Command) => {
      const u = username(user);
      await withSession(io, cmd, async (session) => {
        let p = await session.client.contacts.profile(u);
        if (!p) {
          // Profile keys travel inside messages: one may be waiting on the server. And an
          // empty answer may be an old one: they may have set a profile since.
          await session.sync();
          p = await session.client.contacts.profile(u, { refresh: true });
        }
        if (opts.saveAvatar !== undefined) {
          if (!p?.avatar) throw new CliError(`${u} has no avatar you can see`, 'NO_AVATAR');
          await writeFile(opts.saveAvatar, p.avatar);
        }
        if (opts.json) return jsonLine(io.stdout, { username: u, name: p?.name ?? null, avatarBytes: p?.avatar?.length ?? 0 });
        if (!p) return line(io.stdout, `${u}: no profile shared with you yet`);
        line(io.stdout, `${u}: ${p.name ?? '(no name)'}${p.avatar ? `, avatar ${formatBytes(p.avatar.length)}` : ', no avatar'}`);
        if (opts.saveAvatar !== undefined) line(io.stderr, `avatar saved to ${opts.saveAvatar}`);
      });
    });
}
