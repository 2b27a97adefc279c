/**
 * Conversation ids as the local store and the public API use them: a direct conversation
 * is the peer's username, a group is "g:" + the hex of its 32-byte id.
 */
const GROUP_PREFIX = 'g:';

export function groupConversationId(groupId: Uint8Array): string {
  return GROUP_PREFIX + Buffer.from(groupId).toString('hex');
}

export function isGroupConversation(id: string): boolean {
  return id.startsWith(GROUP_PREFIX);
}

/** The group id of a group conversation id, or undefined when it is not one. */
export function groupIdOf(conversation: string): Uint8Array | undefined {
  if (!isGroupConversation(conversation)) return undefined;
  const hex = conversation.slice(GROUP_PREFIX.length);
  if (!/^[0-9a-f]{64}$/.test(hex)) return undefined;
  return new Uint8Array(Buffer.from(hex, 'hex'));
}

export function groupHex(groupId: Uint8Array): string {
  return Buffer.from(groupId).toString('hex');
}
