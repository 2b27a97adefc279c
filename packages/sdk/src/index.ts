export { Client, MAX_TEXT_BYTES } from './client.js';
export type {
  ClientDiagnostics,
  ClientEvents,
  ClientHooks,
  ConnectionState,
  ConversationEvent,
  ConversationInfo,
  DeviceInfo,
  GroupInfo,
  OpenOptions,
  ReceivedEnvelope,
  StoredAttachment,
  StoredMessage,
} from './types.js';
export type { FileInput, SendInput } from './conversations/conversations.js';
export type { Settings } from './conversations/messenger.js';
export { formatTimer } from './conversations/conversation-events.js';
export {
  SdkErrorCode,
  type ServerErrorCode,
  AlreadyRegisteredError,
  IdentityChangedError,
  KluisError,
  NetworkError,
  NotRegisteredError,
  ProtocolViolationError,
  ServerError,
  TimeoutError,
  WrongPassphraseError,
} from './errors.js';
export { TypedEmitter } from './emitter.js';
export { subscriptionWarning } from './subscription.js';
export * from './profiles/index.js';
export * from './attachments/index.js';
export type { MessagesApi } from './client/messages-api.js';
export type { ConversationsApi } from './client/conversations-api.js';
export type { GroupsApi } from './client/groups-api.js';
export type { DevicesApi } from './client/devices-api.js';
export type { IdentityApi, IdentityStatus } from './client/identity-api.js';
export type { ContactsApi, ProfileApi } from './client/contacts-api.js';
export type { ClientSettings, SettingsApi, SubscriptionApi } from './client/account-api.js';
export type { CallEntry, CallsApi } from './client/calls-api.js';
export type { CallDevice, CallHangupReason, CallMedia, CallSignal } from './calls/call-signal.js';
export type { CallSignalEvent } from './calls/calls.js';
export { RING_WINDOW_MS } from './calls/calls.js';
export { formatDuration } from './conversations/conversation-events.js';
export { groupConversationId, groupIdOf, isGroupConversation } from '@kluis/protocol';
