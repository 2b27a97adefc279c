import type { Command } from 'commander';
// Light subpaths only: every command module loads at start-up, `kluis --help` included.
import { normalizeUsername } from '@kluis/protocol/codes';
import { isGroupConversation } from '@kluis/protocol/conversation-ids';
import { USERNAME_PATTERN } from '@kluis/protocol/limits';
import type { Client, GroupInfo, StoredMessage } from '@kluis/sdk';
import { KluisError, SdkErrorCode, ServerError } from '@kluis/sdk/errors';
import { CliError, UsageError } from './errors.js';
import type { CliIo } from './io.js';
import { line } from './io.js';
import { withClient, type ProfileOptions } from './profile.js';

export type { ConversationInfo, GroupInfo } from '@kluis/sdk';

export interface Target {
  kind: 'direct' | 'group';
  /** What the SDK takes: a username, or a group conversation id ("g:…"). */
  conversation: string;
  /** What to show: the username or the group title. */
  label: string;
  group?: GroupInfo;
}

const USERNAME = new RegExp(USERNAME_PATTERN);
/** Message ids are UUIDs; a prefix this long is unique in practice and short enough to type. */
export const MIN_ID_PREFIX = 6;

export const CONVERSATION_HELP =
  'a username for a direct conversation; a group as #TITLE, its id (g:…), or a title that is not also a valid username';

export function isUsername(text: string): boolean {
  return USERNAME.test(normalizeUsername(text));
}

export function username(text: string): string {
  const u = normalizeUsername(text.replace(/^@/, ''));
  if (!USERNAME.test(u)) throw new UsageError(`"${text}" is not a username (3-32 characters of a-z 0-9 _ .)`);
  return u;
}

/** "a,b c" → ['a', 'b', 'c'], each checked as a username. */
export function usernames(list: string[]): string[] {
  return list
    .flatMap((s) => s.split(/[\s,]+/))
    .filter(Boolean)
    .map(username);
}

/**
 * An open client plus the lookups commands share. Fetching the server queue is done at
 * most once per process, and only when a command needs data that may still be waiting
 * there: it stores (and so hides from a later `kluis receive`) whatever arrives.
 */
export class Session {
  private synced = false;

  constructor(
    readonly client: Client,
    private readonly io: CliIo,
  ) {
    client.on('identity-changed', ({ username: u }) =>
      line(io.stderr, `the safety number with ${u} changed: compare it ("kluis safety-number ${u}") and run "kluis trust ${u}"`),
    );
  }

  /** Connects and waits until everything queued on the server is stored locally. */
  async sync(): Promise<void> {
    if (this.synced) return;
    this.synced = true;
    const drained = new Promise<void>((resolve) => this.client.once('queue-empty', () => resolve()));
    await this.client.connect();
    await drained;
  }

  /**
   * CONV as typed → a conversation. The rule, also in --help: "#…" and "g:…" are always
   * groups; "@…" and anything shaped like a username is a user; any other text is a group
   * title. So a group whose title is also a valid username needs the "#".
   */
  async conversation(arg: string): Promise<Target> {
    const raw = arg.trim();
    if (!raw) throw new UsageError('name a conversation: a username or a group');
    if (raw.startsWith('#')) return groupTarget(await this.group(raw.slice(1)));
    if (isGroupConversation(raw)) return groupTarget(await this.group(raw));
    if (raw.startsWith('@') || isUsername(raw)) {
      const u = username(raw);
      return { kind: 'direct', conversation: u, label: u };
    }
    try {
      return groupTarget(await this.group(raw));
    } catch (e) {
      if (e instanceof CliError && e.code === 'UNKNOWN_GROUP') {
        throw new UsageError(`"${raw}" is neither a username (3-32 characters of a-z 0-9 _ .) nor the title of a group you are in (see "kluis group list")`);
      }
      throw e;
    }
  }

  /** When a direct conversation's name is also a group title: how to reach the group instead. */
  async groupHint(target: Target): Promise<string> {
    if (target.kind !== 'direct') return '';
    const g = (await this.client.groups.list()).find((x) => x.title.toLowerCase() === target.conversation);
    return g ? `for the group "${g.title}" write "#${g.title}"` : '';
  }

  /** The server does not know a username we sent to: say so, and point at a same-named group. */
  async explainUnknownUser(target: Target, err: unknown): Promise<never> {
    if (target.kind === 'direct' && err instanceof ServerError && err.status === 404) {
      const hint = await this.groupHint(target);
      throw new CliError(`there is no account "${target.conversation}"${hint ? `; ${hint}` : ''}`, 'UNKNOWN_USER');
    }
    throw err;
  }

  /** A group we are in, by title (exact, else case-insensitive), conversation id or hex id. */
  async group(ref: string): Promise<GroupInfo> {
    const r = ref.trim().replace(/^#/, '');
    if (!r) throw new UsageError('name a group: its title or id (see "kluis group list")');
    let g = await this.findGroup(r);
    if (!g) {
      // Perhaps we were just added, and the group state still waits on the server.
      await this.sync();
      g = await this.findGroup(r);
    }
    if (!g) throw new CliError(`you are not in a group "${r}" (see "kluis group list")`, 'UNKNOWN_GROUP');
    return g;
  }

  private async findGroup(ref: string): Promise<GroupInfo | undefined> {
    let g: GroupInfo | undefined;
    try {
      g = await this.client.groups.find(ref);
    } catch (e) {
      if (e instanceof KluisError && e.code === SdkErrorCode.AmbiguousGroup) throw new UsageError(`${e.message} (see "kluis group list")`);
      throw e;
    }
    if (g) return g;
    // Titles are typed from memory: a unique case-insensitive match is what was meant.
    const lower = ref.toLowerCase();
    const matches = (await this.client.groups.list()).filter((x) => x.title.toLowerCase() === lower);
    if (matches.length > 1) throw new UsageError(`several groups are called "${ref}": use the group id (see "kluis group list")`);
    return matches[0];
  }

  /** A stored message by id or unique id prefix (≥ 6 characters). */
  async message(ref: string): Promise<StoredMessage> {
    const prefix = ref.trim().toLowerCase();
    if (prefix.length < MIN_ID_PREFIX) {
      throw new UsageError(`"${ref}" is too short for a message id: give at least ${MIN_ID_PREFIX} characters (ids are shown by "kluis history CONV")`);
    }
    let found = await this.findMessages(prefix);
    if (found.length === 0) {
      await this.sync();
      found = await this.findMessages(prefix);
    }
    if (found.length === 0) throw new CliError(`no message ${ref} on this device (ids are shown by "kluis history CONV")`, 'UNKNOWN_MESSAGE');
    if (found.length > 1) {
      const ids = found.slice(0, 5).map((m) => m.id);
      throw new UsageError(`"${ref}" matches ${found.length} messages (${ids.join(', ')}${found.length > 5 ? ', …' : ''}): give more characters`);
    }
    return found[0]!;
  }

  private async findMessages(prefix: string): Promise<StoredMessage[]> {
    return this.client.messages.findByIdPrefix(prefix, 100);
  }
}

function groupTarget(g: GroupInfo): Target {
  return { kind: 'group', conversation: g.conversation, label: g.title, group: g };
}

/** Runs `fn` with a session on the profile's client (closed afterwards, also on errors). */
export function withSession<T>(io: CliIo, cmd: Command, fn: (s: Session) => Promise<T>): Promise<T> {
  return withClient(io, cmd.optsWithGlobals<ProfileOptions>(), (client) => fn(new Session(client, io)));
}
