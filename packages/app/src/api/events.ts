import type { Static } from '@sinclair/typebox';
import type { CallSignalBody as CallSignalSchema } from './requests.js';
import type { ConversationEvent, Group, Message, StateName } from './responses.js';

/** One call signal as the page sends and hears it. */
export type CallSignalData = Static<typeof CallSignalSchema>;

/**
 * What the page hears on the event socket, by type: SDK events as the host forwards
 * them, and the host's own (state, linking, an accepted safety number). Every frame is
 * `{type, data}`; the page only listens.
 */
export interface AppEventMap {
  /** The first frame on every new socket. */
  hello: { state: StateName };
  state: { state: StateName };
  message: Message;
  /** An edit, delete, reaction, receipt, download or expiry changed a stored message. */
  'message-updated': Message;
  /** A message disappeared or was deleted locally. */
  'message-removed': { id: string; conversation: string };
  typing: { conversation: string; accountId: string; username: string; started: boolean };
  /** A call signal for this device (the SDK's CallSignalEvent): `ring` says to ring now. */
  'call-signal': {
    conversation: string;
    from: { accountId: string; username: string; deviceId: number };
    fromSelf: boolean;
    sentAt: number;
    ring: boolean;
    signal: CallSignalData;
  };
  'group-updated': Group;
  connection: { state: 'connected' | 'disconnected' | 'replaced' | 'removed' };
  'identity-changed': { username: string; accountId: string };
  'identity-accepted': { username: string };
  'messages-missing': { conversation: string; accountId: string; count: number };
  'subscription-expiring': { paidUntil: number; state: string; daysLeft: number };
  /** This new device, while linking: the number to compare with the primary's. */
  'link-verification': { verification: string };
  /** The primary: a new device asks to be linked with this code. */
  'link-request': { code: string; verification: string };
  'link-done': { code: string; deviceId: number };
  /** `error`: an SDK code (LINK_REJECTED, TIMEOUT…), or LINK_FAILED. */
  'link-failed': { code: string; error: string };
}
export type AppEventType = keyof AppEventMap;
export type AppEvent = { [K in AppEventType]: { type: K; data: AppEventMap[K] } }[AppEventType];
