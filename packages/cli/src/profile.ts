import { homedir } from 'node:os';
import { join } from 'node:path';
import type { Client } from '@kluis/sdk';
import { CliError } from './errors.js';
import type { CliIo } from './io.js';

export interface ProfileOptions {
  profile?: string;
}

const PROFILE_NAME = /^[A-Za-z0-9_.-]{1,64}$/;

/** Profiles live under $KLUIS_HOME (default ~/.kluis)/profiles/NAME: one identity each. */
export function profileDir(io: CliIo, name = 'default'): string {
  if (!PROFILE_NAME.test(name)) {
    throw new CliError(`invalid profile name "${name}": use letters, digits, '_', '.', '-'`);
  }
  const home = io.env.KLUIS_HOME || join(homedir(), '.kluis');
  return join(home, 'profiles', name);
}

async function passphrase(io: CliIo, isNew: boolean): Promise<string> {
  const fromEnv = io.env.KLUIS_PASSPHRASE;
  if (fromEnv) return fromEnv;
  if (!io.prompt) {
    throw new CliError('the local store is encrypted: set KLUIS_PASSPHRASE or run in a terminal to be asked');
  }
  const first = await io.prompt('Passphrase for the local store: ', { hidden: true });
  if (!first) throw new CliError('an empty passphrase is not allowed');
  if (isNew) {
    const again = await io.prompt('Repeat the passphrase: ', { hidden: true });
    if (again !== first) throw new CliError('the passphrases differ');
  }
  return first;
}

/**
 * Fault injection for the crash tests: KLUIS_TEST_FAULT=kill-before-commit makes the
 * process die the way a power cut would, after decrypting but before committing.
 */
function faultHooks(io: CliIo): { beforeCommit?: () => void } {
  if (io.env.KLUIS_TEST_FAULT === 'kill-before-commit') {
    return { beforeCommit: () => void process.kill(process.pid, 'SIGKILL') };
  }
  return {};
}

/** Opens the profile's client; commands other than register/link need a registered one. */
export async function openClient(
  io: CliIo,
  opts: ProfileOptions,
  mode: { requireRegistered: boolean; isNew?: boolean },
): Promise<Client> {
  const dir = profileDir(io, opts.profile);
  // Loaded here, not at the top: `kluis --help` and the admin commands never pay for the SDK.
  const { Client } = await import('@kluis/sdk');
  const client = await Client.open({
    profileDir: dir,
    passphrase: await passphrase(io, mode.isNew ?? false),
    hooks: faultHooks(io),
    // Cluster mode: more nodes beside the one registered with, and the region to prefer.
    ...(io.env.KLUIS_SERVERS && { serverUrls: io.env.KLUIS_SERVERS.split(',').map((u) => u.trim()).filter(Boolean) }),
    ...(io.env.KLUIS_REGION && { region: io.env.KLUIS_REGION }),
  });
  if (mode.requireRegistered && !client.isRegistered) {
    await client.close();
    throw new CliError(
      `profile "${opts.profile ?? 'default'}" has no account yet: run "kluis register" or "kluis link --code" first`,
    );
  }
  if (!mode.requireRegistered && client.isRegistered) {
    const name = client.account?.username;
    await client.close();
    throw new CliError(
      `profile "${opts.profile ?? 'default'}" is already registered as ${name}: use --profile NAME for another identity`,
    );
  }
  return client;
}

/** Runs `fn` with an open client and always closes it. */
export async function withClient<T>(
  io: CliIo,
  opts: ProfileOptions,
  fn: (client: Client) => Promise<T>,
): Promise<T> {
  const client = await openClient(io, opts, { requireRegistered: true });
  try {
    return await fn(client);
  } finally {
    await client.close();
  }
}
