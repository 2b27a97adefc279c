import { randomUUID } from 'node:crypto';
import { fromBinary } from '@bufbuild/protobuf';
import { pb } from '@kluis/protocol';
import { groupConversationId, groupHex } from '../conversations/ids.js';
import type { ConversationStore } from '../store/conversation-store.js';
import type { ConversationEvent, GroupInfo } from '../types.js';
import { isAdmin, memberOf, resolveGroupState, stateBytes, stateHash, type GroupState } from './group-state.js';

export interface GroupChange {
  groupId: string;
  previous: GroupState | undefined;
  state: GroupState;
  /** Account ids no longer members (their devices must not get the next sender key). */
  removed: string[];
  added: string[];
  /** This account is not (or no longer) a member. */
  iAmOut: boolean;
  /** What changed, for the event row in the conversation. */
  event: ConversationEvent[];
}

/**
 * The groups this device knows, as local state only (the server never sees membership).
 * Every received state is kept as a candidate; the current state is resolved from them
 * (group-state.ts), so devices converge whatever order updates arrive in.
 */
export class GroupBook {
  constructor(
    private readonly conv: ConversationStore,
    private readonly myAccountId: () => string,
    private readonly usernameOf: (accountId: string) => string | undefined,
  ) {}

  state(groupId: string): GroupState | undefined {
    const row = this.conv.getGroup(groupId);
    return row ? fromBinary(pb.GroupStateSchema, row.state) : undefined;
  }

  distributionId(groupId: string): string | undefined {
    return this.conv.getGroup(groupId)?.distributionId;
  }

  /** A new distribution id: the next group send hands out a fresh sender key (after a removal). */
  rotate(groupId: string): void {
    const row = this.conv.getGroup(groupId);
    if (row) this.conv.putGroup({ ...row, distributionId: randomUUID() });
  }

  /** A group this device created: installed as its own base. */
  create(state: GroupState): void {
    const hex = groupHex(state.id);
    const bytes = stateBytes(state);
    this.conv.putGroup({ id: hex, state: bytes, version: Number(state.version), distributionId: randomUUID(), baseState: bytes });
    this.conv.addCandidate(hex, { version: Number(state.version), hash: stateHash(state), author: state.changedBy, state: bytes });
    this.conv.ensure(groupConversationId(state.id), 'group', null, state.expireTimerSeconds);
    this.conv.setTimer(groupConversationId(state.id), state.expireTimerSeconds);
  }

  /**
   * Takes a state received from `author` (authenticated by its 1:1 session). Unknown groups
   * are accepted only from an admin of the state that lists this account. Returns the
   * change when the resolved state moved.
   */
  receive(author: string, update: GroupState): GroupChange | undefined {
    const hex = groupHex(update.id);
    const me = this.myAccountId();
    const row = this.conv.getGroup(hex);
    const bytes = stateBytes(update);
    if (!row) {
      if (update.changedBy !== author || !isAdmin(update, author) || !memberOf(update, me)) return undefined;
      this.create(update);
      return this.change(hex, undefined, update);
    }
    const added = this.conv.addCandidate(hex, { version: Number(update.version), hash: stateHash(update), author, state: bytes });
    if (!added) return undefined;
    return this.resolve(hex);
  }

  /**
   * Adopts a change this device made (after sending it to the members). It goes through
   * the same resolution as received ones: a concurrent change that arrived meanwhile may win.
   */
  commitOwn(next: GroupState): GroupChange | undefined {
    const hex = groupHex(next.id);
    this.conv.addCandidate(hex, { version: Number(next.version), hash: stateHash(next), author: next.changedBy, state: stateBytes(next) });
    return this.resolve(hex);
  }

  private resolve(hex: string): GroupChange | undefined {
    const row = this.conv.getGroup(hex)!;
    const base = fromBinary(pb.GroupStateSchema, row.baseState);
    const candidates = this.conv.candidates(hex).map((c) => ({
      version: c.version,
      hash: c.hash,
      author: c.author,
      state: fromBinary(pb.GroupStateSchema, c.state),
    }));
    const next = resolveGroupState(base, candidates);
    const previous = fromBinary(pb.GroupStateSchema, row.state);
    if (stateHash(next) === stateHash(previous)) return undefined;
    const change = this.change(hex, previous, next);
    this.conv.putGroup({
      ...row,
      state: stateBytes(next),
      version: Number(next.version),
      distributionId: change.removed.length > 0 ? randomUUID() : row.distributionId,
    });
    this.conv.setTimer(groupConversationId(next.id), next.expireTimerSeconds);
    return change;
  }

  info(groupId: string): GroupInfo | undefined {
    const s = this.state(groupId);
    return s ? groupInfo(s, this.myAccountId()) : undefined;
  }

  list(): GroupInfo[] {
    return this.conv.listGroups().map((g) => groupInfo(fromBinary(pb.GroupStateSchema, g.state), this.myAccountId()));
  }

  private change(groupId: string, previous: GroupState | undefined, state: GroupState): GroupChange {
    const before = new Set(previous?.members.map((m) => m.accountId) ?? []);
    const after = new Set(state.members.map((m) => m.accountId));
    const removed = [...before].filter((a) => !after.has(a));
    const added = previous ? [...after].filter((a) => !before.has(a)) : [];
    return {
      groupId,
      previous,
      state,
      removed,
      added,
      iAmOut: !after.has(this.myAccountId()),
      event: describeChange(previous, state, (a) => this.name(a, state, previous)),
    };
  }

  private name(accountId: string, ...states: Array<GroupState | undefined>): string {
    for (const s of states) {
      const m = s && memberOf(s, accountId);
      if (m) return m.username;
    }
    return this.usernameOf(accountId) ?? accountId;
  }
}

export function groupInfo(s: GroupState, me: string): GroupInfo {
  return {
    id: groupHex(s.id),
    conversation: groupConversationId(s.id),
    title: s.title,
    version: Number(s.version),
    expireTimer: s.expireTimerSeconds,
    members: s.members.map((m) => ({ accountId: m.accountId, username: m.username, admin: m.role === pb.GroupRole.ADMIN })),
    hasAvatar: s.avatar !== undefined,
    member: s.members.some((m) => m.accountId === me),
  };
}

/**
 * What a group change did, part by part (shown as an event in the conversation; the
 * English text is eventText() of it). `name` turns an account id into a username.
 */
export function describeChange(prev: GroupState | undefined, next: GroupState, name: (accountId: string) => string): ConversationEvent[] {
  const by = name(next.changedBy);
  if (!prev) return [{ type: 'created', by, title: next.title }];
  const parts: ConversationEvent[] = [];
  const before = new Map(prev.members.map((m) => [m.accountId, m]));
  const after = new Map(next.members.map((m) => [m.accountId, m]));
  const left = [...before.keys()].filter((a) => !after.has(a));
  if (left.length === 1 && left[0] === next.changedBy) parts.push({ type: 'left', by });
  else if (left.length > 0) parts.push({ type: 'removed', by, members: left.map(name) });
  const joined = [...after.keys()].filter((a) => !before.has(a));
  if (joined.length > 0) parts.push({ type: 'added', by, members: joined.map(name) });
  for (const [a, m] of after) {
    const old = before.get(a);
    if (old && old.role !== m.role && m.role === pb.GroupRole.ADMIN) parts.push({ type: 'admin', member: name(a) });
  }
  if (prev.title !== next.title) parts.push({ type: 'renamed', by, title: next.title });
  if (prev.expireTimerSeconds !== next.expireTimerSeconds) parts.push({ type: 'timer', by, seconds: next.expireTimerSeconds });
  if ((prev.avatar?.id ?? '') !== (next.avatar?.id ?? '')) parts.push({ type: 'picture', by });
  return parts.length > 0 ? parts : [{ type: 'updated', by }];
}
