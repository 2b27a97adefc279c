import { randomBytes } from 'node:crypto';
import { clone, create } from '@bufbuild/protobuf';
import { encodeContent, MAX_GROUP_MEMBERS, normalizeUsername, pb } from '@kluis/protocol';
import type { Ctx } from '../context.js';
import { KluisError } from '../errors.js';
import { describeChange, type GroupBook } from '../groups/group-book.js';
import { GroupRole, isAdmin, leftState, memberOf, type GroupState } from '../groups/group-state.js';
import type { GroupSender } from '../groups/group-sender.js';
import { eventColumns } from './conversation-events.js';
import { groupConversationId, groupHex } from './ids.js';
import { checkTimer, type Messenger, type Peer, type Target } from './messenger.js';
import { toStored } from './stored.js';

/**
 * Group changes we make: create, members, admins, title, picture, leaving. Each is a new
 * group state, announced over 1:1 sessions to everyone in the old and the new state.
 */
export class GroupAdmin {
  constructor(
    private readonly ctx: Ctx,
    private readonly messenger: Messenger,
    private readonly book: GroupBook,
    private readonly groups: GroupSender,
    private readonly resolveUsername: (u: string) => Promise<Peer>,
    private readonly nextTimestamp: () => number,
  ) {}

  async createGroup(title: string, memberUsernames: string[], avatar?: pb.AttachmentPointer): Promise<string> {
    const me = this.ctx.me();
    const peers: Peer[] = [];
    for (const u of memberUsernames) {
      const p = await this.resolveUsername(normalizeUsername(u));
      if (p.accountId !== me.accountId && !peers.some((x) => x.accountId === p.accountId)) peers.push(p);
    }
    if (peers.length + 1 > MAX_GROUP_MEMBERS) throw new KluisError('GROUP_TOO_LARGE', `a group has at most ${MAX_GROUP_MEMBERS} members`);
    const state = create(pb.GroupStateSchema, {
      id: new Uint8Array(randomBytes(32)),
      version: 1n,
      title: checkTitle(title),
      members: [
        { accountId: me.accountId, username: me.username, role: GroupRole.ADMIN },
        ...peers.map((p) => ({ accountId: p.accountId, username: p.username, role: GroupRole.MEMBER })),
      ],
      expireTimerSeconds: this.messenger.settings().defaultExpireTimer,
      changedBy: me.accountId,
      ...(avatar ? { avatar } : {}),
    });
    // The keys go in before the book keeps version 1: our copy must be the one members get,
    // or a member's later leave (valid only against that exact state) would be refused here.
    this.addProfileKeys(state);
    this.book.create(state);
    await this.announce(state, undefined);
    return groupConversationId(state.id);
  }

  async addMembers(conversation: string, usernames: string[]): Promise<void> {
    const peers = await Promise.all(usernames.map((u) => this.resolveUsername(normalizeUsername(u))));
    const t = await this.groupTarget(conversation);
    await this.updateGroup(t.groupId, (s) => {
      for (const p of peers)
        if (!memberOf(s, p.accountId)) s.members.push(create(pb.GroupMemberSchema, { accountId: p.accountId, username: p.username, role: GroupRole.MEMBER }));
      if (s.members.length > MAX_GROUP_MEMBERS) throw new KluisError('GROUP_TOO_LARGE', `a group has at most ${MAX_GROUP_MEMBERS} members`);
    });
  }

  async removeMembers(conversation: string, usernames: string[]): Promise<void> {
    const peers = await Promise.all(usernames.map((u) => this.resolveUsername(normalizeUsername(u))));
    const t = await this.groupTarget(conversation);
    const gone = new Set(peers.map((p) => p.accountId));
    gone.delete(this.ctx.me().accountId);
    await this.updateGroup(t.groupId, (s) => void (s.members = s.members.filter((m) => !gone.has(m.accountId))));
  }

  async promote(conversation: string, username: string): Promise<void> {
    const p = await this.resolveUsername(normalizeUsername(username));
    const t = await this.groupTarget(conversation);
    await this.updateGroup(t.groupId, (s) => {
      const m = memberOf(s, p.accountId);
      if (!m) throw new KluisError('NOT_A_MEMBER', `${p.username} is not a member`);
      m.role = GroupRole.ADMIN;
    });
  }

  /** A new group picture (an uploaded attachment), or none. */
  async setGroupAvatar(conversation: string, avatar: pb.AttachmentPointer | undefined): Promise<void> {
    const t = await this.groupTarget(conversation);
    await this.updateGroup(t.groupId, (s) => void (s.avatar = avatar));
  }

  async renameGroup(conversation: string, title: string): Promise<void> {
    const t = await this.groupTarget(conversation);
    await this.updateGroup(t.groupId, (s) => void (s.title = checkTitle(title)));
  }

  async leaveGroup(conversation: string): Promise<void> {
    const t = await this.groupTarget(conversation);
    const me = this.ctx.me();
    if (!memberOf(t.state, me.accountId)) return;
    const next = leftState(t.state, me.accountId);
    if (next.members.length === 0) {
      // The last member: nobody to tell.
      this.book.commitOwn(next);
      return;
    }
    await this.announce(next, t.state);
  }

  /** Members get each other's profile keys (as far as we know them) with the state. */
  private addProfileKeys(state: GroupState): void {
    const me = this.ctx.me();
    for (const m of state.members) {
      const key = m.accountId === me.accountId ? this.messenger.profileKey() : this.ctx.conv.getProfile(m.accountId)?.profileKey;
      if (key && !m.profileKey) m.profileKey = key;
    }
  }

  async setTimer(groupId: string, seconds: number): Promise<void> {
    checkTimer(seconds);
    await this.updateGroup(groupId, (s) => void (s.expireTimerSeconds = seconds));
  }

  private async groupTarget(conversation: string): Promise<Extract<Target, { kind: 'group' }>> {
    const t = await this.messenger.target(conversation);
    if (t.kind !== 'group') throw new KluisError('NOT_A_GROUP', `${conversation} is not a group`);
    return t;
  }

  /** Applies `change` to a copy of the current state as version+1 and announces it. */
  private async updateGroup(groupId: string, change: (s: GroupState) => void): Promise<void> {
    const me = this.ctx.me();
    const cur = this.book.state(groupId);
    if (!cur) throw new KluisError('UNKNOWN_GROUP', `no group ${groupId}`);
    if (!isAdmin(cur, me.accountId)) throw new KluisError('NOT_ADMIN', 'only group admins can change the group');
    const next = clone(pb.GroupStateSchema, cur);
    change(next);
    next.version = cur.version + 1n;
    next.changedBy = me.accountId;
    await this.announce(next, cur);
  }

  /**
   * Sends a new group state over 1:1 sessions to everyone in the old and the new state (a
   * removed member learns it was removed) and to our own devices, then adopts it.
   */
  private async announce(next: GroupState, prev: GroupState | undefined): Promise<void> {
    const me = this.ctx.me();
    const conversation = groupConversationId(next.id);
    this.ctx.conv.ensure(conversation, 'group', null, next.expireTimerSeconds);
    this.addProfileKeys(next);
    const timestamp = this.nextTimestamp();
    const d = this.messenger.baseData(conversation, timestamp);
    d.group = create(pb.GroupContextSchema, { id: next.id, version: next.version });
    d.groupUpdate = next;
    const content = encodeContent({ body: { case: 'data', value: d } });
    const accounts = new Set([...(prev?.members ?? []), ...next.members].map((m) => m.accountId));
    accounts.delete(me.accountId);
    this.ctx.data.putSentContent(timestamp, conversation, content, { conversation, counter: Number(d.counter) });
    await this.groups.sendToAccounts([...accounts, me.accountId], content, timestamp);
    const change = prev ? this.book.commitOwn(next) : undefined;
    const name = (a: string) => next.members.find((m) => m.accountId === a)?.username ?? this.ctx.data.usernameOf(a) ?? a;
    const parts = change?.event ?? describeChange(prev, next, name);
    const row = this.messenger.outgoingRow({ kind: 'group', conversation, groupId: groupHex(next.id), state: next }, d, 'group-update', eventColumns(parts));
    row.status = 'sent';
    this.ctx.data.insertMessage(row, null);
    this.ctx.emit('group-updated', this.book.info(groupHex(next.id))!);
    this.ctx.emit('message', toStored(row));
  }
}

function checkTitle(title: string): string {
  const t = title.trim();
  if (t.length === 0 || Buffer.byteLength(t, 'utf8') > 256) throw new KluisError('BAD_TITLE', 'a group title is 1 to 256 bytes');
  return t;
}
