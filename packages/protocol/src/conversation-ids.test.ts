import { describe, expect, it } from 'vitest';
import { groupConversationId, groupHex, groupHexOf, groupIdOf, isGroupConversation } from './conversation-ids.js';

describe('conversation ids', () => {
  const id = new Uint8Array(32).map((_, i) => i * 7);
  it('round-trips a group id through its conversation id', () => {
    const conv = groupConversationId(id);
    expect(conv).toBe('g:' + Buffer.from(id).toString('hex'));
    expect(isGroupConversation(conv)).toBe(true);
    expect(groupHexOf(conv)).toBe(groupHex(id));
    expect(groupIdOf(conv)).toEqual(id);
  });
  it('treats usernames and malformed group ids as no group id', () => {
    expect(isGroupConversation('alice')).toBe(false);
    expect(groupIdOf('alice')).toBeUndefined();
    expect(isGroupConversation('g:xyz')).toBe(true);
    expect(groupIdOf('g:xyz')).toBeUndefined();
    expect(groupIdOf('g:' + 'A'.repeat(64))).toBeUndefined();
  });
});
