import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { pb } from '@kluis/protocol';
import { isValidTransition, leftState, resolveGroupState, stateHash, type Candidate, type GroupState } from './group-state.js';

const id = new Uint8Array(32).fill(7);
const m = (accountId: string, role = pb.GroupRole.MEMBER) => create(pb.GroupMemberSchema, { accountId, username: accountId, role });
const state = (version: number, changedBy: string, title: string, members: pb.GroupMember[]): GroupState =>
  create(pb.GroupStateSchema, { id, version: BigInt(version), title, members, changedBy });
const cand = (s: GroupState): Candidate => ({ version: Number(s.version), hash: stateHash(s), author: s.changedBy, state: s });

const base = state(1, 'a', 'one', [m('a', pb.GroupRole.ADMIN), m('b', pb.GroupRole.ADMIN), m('c')]);

function permutations<T>(xs: T[]): T[][] {
  if (xs.length <= 1) return [xs];
  return xs.flatMap((x, i) => permutations([...xs.slice(0, i), ...xs.slice(i + 1)]).map((p) => [x, ...p]));
}

describe('group state resolution', () => {
  it('accepts an admin change and refuses a member change', () => {
    expect(isValidTransition(base, state(2, 'a', 'two', base.members), 'a')).toBe(true);
    expect(isValidTransition(base, state(2, 'c', 'two', base.members), 'c')).toBe(false);
    expect(isValidTransition(base, state(3, 'a', 'two', base.members), 'a')).toBe(false);
    expect(isValidTransition(base, state(2, 'a', 'two', base.members), 'b')).toBe(false);
  });

  it('lets a member leave, and only leave', () => {
    expect(isValidTransition(base, leftState(base, 'c'), 'c')).toBe(true);
    const sneaky = leftState(base, 'c');
    sneaky.title = 'mine now';
    expect(isValidTransition(base, sneaky, 'c')).toBe(false);
  });

  it('lets only the last member leave a group empty; an admin cannot empty it of others', () => {
    const alone = state(1, 'a', 'x', [m('a', pb.GroupRole.ADMIN)]);
    expect(isValidTransition(alone, leftState(alone, 'a'), 'a')).toBe(true);
    expect(isValidTransition(base, state(2, 'a', 'one', []), 'a')).toBe(false);
    const pair = state(1, 'a', 'x', [m('a', pb.GroupRole.ADMIN), m('b')]);
    expect(isValidTransition(pair, state(2, 'b', 'x', []), 'b')).toBe(false);
  });

  it('promotes the first remaining member when the last admin leaves', () => {
    const g = state(1, 'a', 'x', [m('a', pb.GroupRole.ADMIN), m('b'), m('c')]);
    const next = leftState(g, 'a');
    expect(next.members.map((x) => [x.accountId, x.role])).toEqual([
      ['b', pb.GroupRole.ADMIN],
      ['c', pb.GroupRole.MEMBER],
    ]);
  });

  it('converges on concurrent renames in every arrival order', () => {
    const r1 = cand(state(2, 'a', 'from a', base.members));
    const r2 = cand(state(2, 'b', 'from b', base.members));
    const r3 = cand(state(3, 'a', 'then a', base.members));
    const results = new Set(permutations([r1, r2, r3]).map((order) => stateHash(resolveGroupState(base, order))));
    expect(results.size).toBe(1);
  });

  it('drops a change whose author was demoted in the chosen previous version', () => {
    const demoteB = cand(state(2, 'a', 'one', [m('a', pb.GroupRole.ADMIN), m('b'), m('c')]));
    const byB = cand(state(3, 'b', 'b was here', demoteB.state.members));
    expect(resolveGroupState(base, [byB, demoteB]).title).toBe('one');
    expect(resolveGroupState(base, [byB, demoteB]).version).toBe(2n);
  });
});
