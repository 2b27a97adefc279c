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
  StoredAttachment,
  StoredMessage,
} from './types.js';
export type { FileInput } from './conversations/conversations.js';
export type { Settings } from './conversations/messenger.js';
export { formatTimer } from './conversations/conversation-events.js';
export {
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
export type { Envelope } from '@kluis/protocol';
export { subscriptionWarning } from './subscription.js';
export * from './profiles/index.js';
export * from './attachments/index.js';
export { HttpApi } from './transport/http.js';
