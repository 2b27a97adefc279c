import { describe, expect, it } from 'vitest';
import { create } from '@bufbuild/protobuf';
import { pb } from '@kluis/protocol';
import { eventText } from '../conversations/conversation-events.js';
import { describeChange } from './group-book.js';
import type { GroupState } from './group-state.js';

const id = new Uint8Array(32).fill(7);
const m = (accountId: string, role = pb.GroupRole.MEMBER) => create(pb.GroupMemberSchema, { accountId, username: `@${accountId}`, role });
const state = (changedBy: string, title: string, members: pb.GroupMember[], more: { expireTimerSeconds?: number; avatar?: pb.AttachmentPointer } = {}): GroupState =>
  create(pb.GroupStateSchema, { id, version: 1n, title, members, changedBy, ...more });
// Names come from the caller (the states, then contacts): here, the account id in capitals.
const name = (a: string) => a.toUpperCase();

const base = state('a', 'one', [m('a', pb.GroupRole.ADMIN), m('b'), m('c')]);

describe('describeChange', () => {
  it('a new group: created, with its title', () => {
    const parts = describeChange(undefined, base, name);
    expect(parts).toEqual([{ type: 'created', by: 'A', title: 'one' }]);
    expect(eventText(parts)).toBe('A created the group “one”');
  });

  it('every change in one state, in a fixed order', () => {
    const next = state('a', 'two', [m('a', pb.GroupRole.ADMIN), m('b', pb.GroupRole.ADMIN), m('d'), m('e')], {
      expireTimerSeconds: 86400,
      avatar: create(pb.AttachmentPointerSchema, { id: 'pic' }),
    });
    const parts = describeChange(base, next, name);
    expect(parts).toEqual([
      { type: 'removed', by: 'A', members: ['C'] },
      { type: 'added', by: 'A', members: ['D', 'E'] },
      { type: 'admin', member: 'B' },
      { type: 'renamed', by: 'A', title: 'two' },
      { type: 'timer', by: 'A', seconds: 86400 },
      { type: 'picture', by: 'A' },
    ]);
    expect(eventText(parts)).toBe(
      'A removed C; A added D, E; B is now an admin; A renamed the group to “two”; A set disappearing messages to 1d; A changed the group picture',
    );
  });

  it('a member leaving is "left", not "removed"', () => {
    const parts = describeChange(base, state('c', 'one', [m('a', pb.GroupRole.ADMIN), m('b')]), name);
    expect(parts).toEqual([{ type: 'left', by: 'C' }]);
    expect(eventText(parts)).toBe('C left the group');
  });

  it('a change with nothing to show is "updated"', () => {
    const parts = describeChange(base, state('b', 'one', base.members), name);
    expect(parts).toEqual([{ type: 'updated', by: 'B' }]);
    expect(eventText(parts)).toBe('B updated the group');
  });
});
