import { describe, expect, it } from 'vitest';
import { GroupPresence } from './group-presence.js';

describe('group call presence', () => {
  it('is on while anyone heard joining has not left, per conversation', () => {
    const p = new GroupPresence();
    expect(p.note('g:1', 'call-a', 'alice:1', 'video')).toBe(true);
    p.note('g:1', 'call-a', 'bob:2', 'video');
    expect(p.ongoing).toEqual({ 'g:1': { callId: 'call-a', media: 'video' } });
    p.note('g:1', 'call-a', 'alice:1', null);
    expect(Object.keys(p.ongoing)).toEqual(['g:1']);
    p.note('g:1', 'call-a', 'bob:2', null);
    expect(p.ongoing).toEqual({});
  });

  it('ignores a leave of a call it never heard of, and follows a new call in the same group', () => {
    const p = new GroupPresence();
    expect(p.note('g:1', 'old', 'alice:1', null)).toBe(false);
    p.note('g:1', 'call-a', 'alice:1', 'audio');
    p.note('g:1', 'call-b', 'carol:1', 'video');
    expect(p.ongoing).toEqual({ 'g:1': { callId: 'call-b', media: 'video' } });
    expect(p.note('g:1', 'call-a', 'alice:1', null)).toBe(false);
  });
});

describe('group call size', () => {
  it('counts the devices heard in the current call', () => {
    const p = new GroupPresence();
    for (let i = 0; i < 8; i++) p.note('g:1', 'c', `u${i}:1`, 'video');
    expect(p.count('g:1')).toBe(8);
    expect(p.count('g:2')).toBe(0);
  });
});
