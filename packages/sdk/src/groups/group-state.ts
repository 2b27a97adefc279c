import { createHash } from 'node:crypto';
import { clone, create, toBinary } from '@bufbuild/protobuf';
import { pb } from '@kluis/protocol';

export type GroupState = pb.GroupState;
export const GroupRole = pb.GroupRole;

export function stateBytes(s: GroupState): Uint8Array<ArrayBuffer> {
  return toBinary(pb.GroupStateSchema, s) as Uint8Array<ArrayBuffer>;
}

/** The tie-break key between candidates for one version: SHA-256 of the encoding. */
export function stateHash(s: GroupState): string {
  return createHash('sha256').update(stateBytes(s)).digest('hex');
}

export function memberOf(s: GroupState, accountId: string): pb.GroupMember | undefined {
  return s.members.find((m) => m.accountId === accountId);
}

export function isAdmin(s: GroupState, accountId: string): boolean {
  return memberOf(s, accountId)?.role === pb.GroupRole.ADMIN;
}

/** What `author` leaving `prev` must produce; the first remaining member becomes admin if none is left. */
export function leftState(prev: GroupState, author: string): GroupState {
  const next = clone(pb.GroupStateSchema, prev);
  next.$unknown = undefined;
  next.members = next.members.filter((m) => m.accountId !== author);
  if (next.members.length > 0 && !next.members.some((m) => m.role === pb.GroupRole.ADMIN)) {
    next.members[0] = create(pb.GroupMemberSchema, { ...next.members[0]!, role: pb.GroupRole.ADMIN });
  }
  next.version = prev.version + 1n;
  next.changedBy = author;
  return next;
}

/**
 * Whether `next` is an acceptable successor of `prev` by its author (`next.changedBy`, who
 * the 1:1 session authenticated): any change by an admin of `prev`; by a plain member only
 * leaving. A group with no members left is not a state (the last member just leaves).
 */
export function isValidTransition(prev: GroupState, next: GroupState, author: string): boolean {
  if (next.changedBy !== author) return false;
  if (next.version !== prev.version + 1n) return false;
  if (Buffer.compare(Buffer.from(next.id), Buffer.from(prev.id)) !== 0) return false;
  // Nobody empties a group of others: only its last member may leave it empty.
  if (next.members.length === 0 && !(prev.members.length === 1 && memberOf(prev, author))) return false;
  if (isAdmin(prev, author)) return true;
  if (!memberOf(prev, author)) return false;
  const plain = clone(pb.GroupStateSchema, next);
  plain.$unknown = undefined;
  return Buffer.compare(Buffer.from(stateBytes(plain)), Buffer.from(stateBytes(leftState(prev, author)))) === 0;
}

export interface Candidate {
  version: number;
  hash: string;
  author: string;
  state: GroupState;
}

/**
 * The group state every member's devices agree on, from the same set of candidates in
 * any arrival order: walk up from the base; at each version keep the valid successors of
 * the state chosen one version below, and choose the greatest hash among them.
 */
export function resolveGroupState(base: GroupState, candidates: readonly Candidate[]): GroupState {
  const byVersion = new Map<number, Candidate[]>();
  for (const c of candidates) {
    const list = byVersion.get(c.version) ?? [];
    list.push(c);
    byVersion.set(c.version, list);
  }
  let chosen = base;
  for (;;) {
    const v = Number(chosen.version) + 1;
    const valid = (byVersion.get(v) ?? []).filter((c) => isValidTransition(chosen, c.state, c.author));
    if (valid.length === 0) return chosen;
    valid.sort((a, b) => (a.hash < b.hash ? 1 : a.hash > b.hash ? -1 : 0));
    chosen = valid[0]!.state;
  }
}
