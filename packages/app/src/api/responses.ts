import { Type, type Static, type TSchema } from '@sinclair/typebox';

/**
 * What the local API answers, as the page sees it. Self-contained (no SDK, no Node): the
 * host's handlers map the SDK's objects onto these, so a change on either side that the
 * other does not follow fails to compile, and Fastify serialises with them, so nothing
 * outside the contract reaches the page.
 */
const Nullable = <T extends TSchema>(t: T) => Type.Union([t, Type.Null()]);

export const Ok = Type.Object({ ok: Type.Literal(true) });
export type Ok = Static<typeof Ok>;

export const StateName = Type.Union([Type.Literal('new'), Type.Literal('locked'), Type.Literal('unlocked')]);
export type StateName = Static<typeof StateName>;

export const Account = Type.Object({
  accountId: Type.String(),
  username: Type.String(),
  deviceId: Type.Integer(),
  serverUrl: Type.String(),
});
export type Account = Static<typeof Account>;

export const AppState = Type.Object({
  state: StateName,
  profile: Type.String(),
  account: Nullable(Account),
  connected: Type.Boolean(),
  /** The server the host was started for (KLUIS_SERVER), to prefill onboarding. */
  defaultServerUrl: Type.Optional(Type.String()),
});
export type AppState = Static<typeof AppState>;

export const Enrolled = Type.Object({ state: StateName, account: Nullable(Account) });
export type Enrolled = Static<typeof Enrolled>;
export const StateOnly = Type.Object({ state: StateName });
export type StateOnly = Static<typeof StateOnly>;

export const Attachment = Type.Object({
  index: Type.Integer(),
  contentType: Type.String(),
  size: Type.Integer(),
  fileName: Type.Optional(Type.String()),
  width: Type.Optional(Type.Integer()),
  height: Type.Optional(Type.Integer()),
  durationMs: Type.Optional(Type.Number()),
  voiceNote: Type.Optional(Type.Boolean()),
  state: Type.Union([Type.Literal('pending'), Type.Literal('downloaded'), Type.Literal('failed')]),
  /** The host can hand it over now (fetched, or sent from here during this session). */
  available: Type.Optional(Type.Boolean()),
});
export type Attachment = Static<typeof Attachment>;

const By = { by: Type.String() };
const CallOutcome = Type.Union([
  Type.Literal('ringing'),
  Type.Literal('answered'),
  Type.Literal('ended'),
  Type.Literal('declined'),
  Type.Literal('missed'),
  Type.Literal('busy'),
]);
/** One part of an event in a conversation; people are named by username. */
export const ConversationEvent = Type.Union([
  Type.Object({ type: Type.Literal('created'), ...By, title: Type.String() }),
  Type.Object({ type: Type.Literal('left'), ...By }),
  Type.Object({ type: Type.Literal('removed'), ...By, members: Type.Array(Type.String()) }),
  Type.Object({ type: Type.Literal('added'), ...By, members: Type.Array(Type.String()) }),
  Type.Object({ type: Type.Literal('admin'), member: Type.String() }),
  Type.Object({ type: Type.Literal('renamed'), ...By, title: Type.String() }),
  Type.Object({ type: Type.Literal('timer'), ...By, seconds: Type.Integer() }),
  Type.Object({ type: Type.Literal('picture'), ...By }),
  Type.Object({ type: Type.Literal('updated'), ...By }),
  Type.Object({ type: Type.Literal('missing'), count: Type.Integer() }),
  /** A message from the sender arrived but could not be shown (it failed to apply, and was set aside). */
  Type.Object({ type: Type.Literal('not-shown') }),
  /** A call; `seconds` of talk once ended. */
  Type.Object({
    type: Type.Literal('call'),
    direction: Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')]),
    media: Type.Union([Type.Literal('audio'), Type.Literal('video')]),
    outcome: CallOutcome,
    seconds: Type.Integer(),
    answeredAt: Type.Number(),
  }),
]);
export type ConversationEvent = Static<typeof ConversationEvent>;

export const Message = Type.Object({
  id: Type.String(),
  conversation: Type.String(),
  direction: Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')]),
  from: Type.Object({ accountId: Type.String(), username: Type.String(), deviceId: Type.Integer() }),
  timestamp: Type.Number(),
  serverTimestamp: Type.Optional(Type.Number()),
  text: Type.String(),
  status: Type.Optional(Type.Union([Type.Literal('sending'), Type.Literal('sent'), Type.Literal('failed')])),
  sync: Type.Optional(Type.Boolean()),
  kind: Type.Union([Type.Literal('text'), Type.Literal('group-update'), Type.Literal('timer'), Type.Literal('missing'), Type.Literal('call')]),
  /** Events stored since clients keep their parts; older ones have only the English `text`. */
  event: Type.Optional(Type.Array(ConversationEvent)),
  groupId: Type.Optional(Type.String()),
  attachments: Type.Optional(Type.Array(Attachment)),
  quote: Type.Optional(Type.Object({ id: Type.Number(), authorAccountId: Type.String(), text: Type.String() })),
  reactions: Type.Optional(Type.Array(Type.Object({ accountId: Type.String(), username: Type.Optional(Type.String()), emoji: Type.String() }))),
  receipts: Type.Optional(Type.Object({ delivered: Type.Array(Type.String()), read: Type.Array(Type.String()) })),
  editedAt: Type.Optional(Type.Number()),
  deleted: Type.Optional(Type.Boolean()),
  expireTimer: Type.Optional(Type.Integer()),
  expiresAt: Type.Optional(Type.Number()),
  readAt: Type.Optional(Type.Number()),
});
export type Message = Static<typeof Message>;
export const MessageList = Type.Array(Message);

export const Conversation = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('direct'), Type.Literal('group')]),
  /** Username (direct) or group title. */
  title: Type.String(),
  unread: Type.Integer(),
  expireTimer: Type.Integer(),
  last: Type.Optional(Message),
  /** A direct conversation whose contact's new safety number waits to be accepted. */
  identityChanged: Type.Boolean(),
});
export type Conversation = Static<typeof Conversation>;
export const ConversationList = Type.Array(Conversation);

export const Group = Type.Object({
  id: Type.String(),
  conversation: Type.String(),
  title: Type.String(),
  version: Type.Integer(),
  expireTimer: Type.Integer(),
  members: Type.Array(Type.Object({ accountId: Type.String(), username: Type.String(), admin: Type.Boolean() })),
  hasAvatar: Type.Boolean(),
  /** This account is (still) a member: false after leaving or being removed. */
  member: Type.Boolean(),
});
export type Group = Static<typeof Group>;
export const GroupList = Type.Array(Group);
/** A group after a change; null once this device no longer has it. */
export const NullableGroup = Nullable(Group);

export const ConversationDetail = Type.Object({
  id: Type.String(),
  kind: Type.Union([Type.Literal('direct'), Type.Literal('group')]),
  title: Type.String(),
  identityChanged: Type.Optional(Type.Boolean()),
  group: Type.Optional(Group),
  expireTimer: Type.Integer(),
});
export type ConversationDetail = Static<typeof ConversationDetail>;

export const NewConversation = Type.Object({ conversation: Type.String() });
export const Marked = Type.Object({ marked: Type.Integer() });
export const FileRef = Type.Object({ fileId: Type.String() });
export const EditHistory = Type.Array(Type.Object({ editedAt: Type.Number(), text: Type.String() }));

export const Contact = Type.Object({
  username: Type.String(),
  name: Nullable(Type.String()),
  /** A data: URL of the contact's profile picture, if they shared one. */
  avatar: Nullable(Type.String()),
  safetyNumber: Type.String(),
  verified: Type.Boolean(),
  identityChanged: Type.Boolean(),
});
export type Contact = Static<typeof Contact>;

export const Device = Type.Object({
  deviceId: Type.Integer(),
  name: Type.Optional(Type.String()),
  createdAt: Type.Number(),
  /** Midnight UTC of the last day the device connected. */
  lastSeenDay: Type.Optional(Type.Number()),
  current: Type.Boolean(),
});
export type Device = Static<typeof Device>;
export const DeviceList = Type.Array(Device);

export const LinkCode = Type.Object({ code: Type.String(), expiresAt: Type.Number() });
export type LinkCode = Static<typeof LinkCode>;

export const Subscription = Type.Object({
  state: Type.String(),
  paidUntil: Nullable(Type.Number()),
  graceEndsAt: Nullable(Type.Number()),
  brand: Type.Object({
    slug: Type.String(),
    name: Type.String(),
    primaryColor: Nullable(Type.String()),
    accentColor: Nullable(Type.String()),
    logoUrl: Nullable(Type.String()),
    defaultLanguage: Type.String(),
  }),
  memberInvites: Type.Object({ allowed: Type.Boolean(), quota: Type.Integer(), used: Type.Integer() }),
});
export type Subscription = Static<typeof Subscription>;

export const AccountInfo = Type.Object({
  ...Account.properties,
  name: Type.String(),
  /** A data: URL of our own profile picture, if set. */
  avatar: Nullable(Type.String()),
  subscription: Nullable(Subscription),
});
export type AccountInfo = Static<typeof AccountInfo>;

export const MemberInvite = Type.Object({ code: Type.String(), remaining: Type.Integer() });
export type MemberInvite = Static<typeof MemberInvite>;

/** Every answer other than 2xx. Some carry more (IDENTITY_CHANGED: the `username`). */
export const ErrorBody = Type.Object({ code: Type.String(), message: Type.String() }, { additionalProperties: true });
export type ErrorBody = Static<typeof ErrorBody>;

/** What the page needs to place a call: the relay (null: the server has none, calls go direct). */
export const CallConfig = Type.Object({
  relay: Nullable(Type.Object({ urls: Type.Array(Type.String()), username: Type.String(), credential: Type.String(), expiresAt: Type.Number() })),
});
export type CallConfig = Static<typeof CallConfig>;

export const CallEntry = Type.Object({
  id: Type.String(),
  conversation: Type.String(),
  direction: Type.Union([Type.Literal('incoming'), Type.Literal('outgoing')]),
  media: Type.Union([Type.Literal('audio'), Type.Literal('video')]),
  outcome: CallOutcome,
  seconds: Type.Integer(),
  by: Type.String(),
  at: Type.Number(),
  group: Type.Boolean(),
});
export const CallList = Type.Array(CallEntry);
export type CallList = Static<typeof CallList>;
