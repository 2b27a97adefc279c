/**
 * Conversation ids as the client's store, the SDK's API, the app host and its page use them:
 * a direct conversation is the peer's username, a group is "g:" + the hex of its 32-byte id.
 * The one place that knows the prefix; free of Node's Buffer so the web page can import it.
 */
const GROUP_PREFIX = 'g:';
const GROUP_HEX = /^[0-9a-f]{64}$/;

export function groupHex(groupId: Uint8Array): string {
  let hex = '';
  for (const b of groupId) hex += b.toString(16).padStart(2, '0');
  return hex;
}

export function groupConversationId(groupId: Uint8Array): string {
  return GROUP_PREFIX + groupHex(groupId);
}

/** True for anything that claims to be a group conversation (the id itself may still be malformed). */
export function isGroupConversation(id: string): boolean {
  return id.startsWith(GROUP_PREFIX);
}

/** The hex group id of a well-formed group conversation id, else undefined. */
export function groupHexOf(conversation: string): string | undefined {
  if (!isGroupConversation(conversation)) return undefined;
  const hex = conversation.slice(GROUP_PREFIX.length);
  return GROUP_HEX.test(hex) ? hex : undefined;
}

/** The group id of a well-formed group conversation id, else undefined. */
export function groupIdOf(conversation: string): Uint8Array | undefined {
  const hex = groupHexOf(conversation);
  if (hex === undefined) return undefined;
  const id = new Uint8Array(32);
  for (let i = 0; i < 32; i++) id[i] = Number.parseInt(hex.slice(i * 2, i * 2 + 2), 16);
  return id;
}
