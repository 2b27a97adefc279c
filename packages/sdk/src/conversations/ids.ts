export { groupConversationId, groupHex, groupIdOf, isGroupConversation } from '@kluis/protocol';
