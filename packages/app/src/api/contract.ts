import type { Static, TSchema } from '@sinclair/typebox';
import * as Q from './requests.js';
import * as R from './responses.js';
import { AppErrorCode as E, SdkCodeUsedByHost as S } from './errors.js';
import type { AppRouteName } from './routes.js';

/**
 * One route's contract. `body`, `params`, `query`, `headers`: checked by the host before
 * its handler runs (a 400 BAD_REQUEST otherwise). `response`: the 200 body. `rawBody`: the
 * body is bytes, not JSON; `binary`: the answer is bytes. `errors`: the codes this route
 * answers besides those any route may (BAD_TOKEN, LOCKED, BAD_REQUEST, INTERNAL, and the
 * SDK's and server's codes it passes on).
 */
export interface AppRouteContract {
  params?: TSchema;
  query?: TSchema;
  headers?: TSchema;
  body?: TSchema;
  rawBody?: true;
  response?: TSchema;
  binary?: true;
  errors?: readonly string[];
}

export const AppApi = {
  state: { response: R.AppState },
  register: { body: Q.RegisterBody, response: R.Enrolled, errors: [S.AlreadyRegistered, S.InvalidUsername] },
  link: { body: Q.LinkBody, response: R.Enrolled, errors: [S.AlreadyRegistered] },
  unlock: { body: Q.UnlockBody, response: R.StateOnly },
  lock: { response: R.StateOnly },

  conversations: { response: R.ConversationList },
  startChat: { body: Q.NewChatBody, response: R.NewConversation, errors: [S.InvalidUsername, S.SelfSend, E.UnknownUser] },
  conversation: { params: Q.ConversationParams, response: R.ConversationDetail, errors: [S.UnknownGroup, S.InvalidUsername] },
  messages: { params: Q.ConversationParams, query: Q.MessagesQuery, response: R.MessageList },
  search: { query: Q.SearchQuery, response: R.MessageList },
  send: { params: Q.ConversationParams, body: Q.SendBody, response: R.Message, errors: [S.EmptyMessage, E.UnknownFile, S.IdentityChanged] },
  markRead: { params: Q.ConversationParams, response: R.Marked },
  typing: { params: Q.ConversationParams, body: Q.TypingBody, response: R.Ok },
  setTimer: { params: Q.ConversationParams, body: Q.TimerBody, response: R.Ok },

  callSignal: { params: Q.ConversationParams, body: Q.CallSignalBody, response: R.Ok, errors: [S.IdentityChanged] },
  callConfig: { response: R.CallConfig },
  calls: { response: R.CallList },
  dismissCall: { params: Q.CallParams, response: R.Ok },

  upload: { headers: Q.UploadHeaders, rawBody: true, response: R.FileRef, errors: [E.EmptyFile, E.TooLarge] },
  attachment: { params: Q.AttachmentParams, binary: true, errors: [S.UnknownMessage, S.UnknownAttachment, E.NotKept] },
  react: { params: Q.MessageParams, body: Q.ReactBody, response: R.Ok },
  edit: { params: Q.MessageParams, body: Q.EditBody, response: R.Ok },
  deleteMessage: { params: Q.MessageParams, query: Q.DeleteQuery, response: R.Ok },
  messageHistory: { params: Q.MessageParams, response: R.EditHistory },

  groups: { response: R.GroupList },
  createGroup: { body: Q.NewGroupBody, response: R.NewConversation, errors: [S.InvalidUsername] },
  changeMembers: { params: Q.ConversationParams, body: Q.MembersBody, response: R.NullableGroup },
  renameGroup: { params: Q.ConversationParams, body: Q.RenameBody, response: R.Ok },
  leaveGroup: { params: Q.ConversationParams, response: R.Ok },

  contact: { params: Q.UsernameParams, response: R.Contact, errors: [S.InvalidUsername] },
  verify: { params: Q.UsernameParams, body: Q.VerifyBody, response: R.Ok, errors: [S.IdentityChanged] },
  trust: { params: Q.UsernameParams, response: R.Ok },

  devices: { response: R.DeviceList },
  removeDevice: { params: Q.DeviceParams, response: R.Ok, errors: [E.BadDevice] },
  startLink: { response: R.LinkCode },
  answerLink: { body: Q.ApproveBody, response: R.Ok, errors: [E.NoLinkRequest] },
  account: { response: R.AccountInfo },
  setProfile: { body: Q.ProfileBody, response: R.Ok, errors: [E.AvatarTooLarge, E.BadAvatar] },
  renew: { body: Q.RenewBody, response: R.Subscription },
  createInvite: { response: R.MemberInvite },
} as const satisfies Record<AppRouteName, AppRouteContract>;
export type AppApi = typeof AppApi;

type Def<K extends AppRouteName> = AppApi[K];
type StaticOf<D, F extends string, Else> = D extends { [P in F]: infer S extends TSchema } ? Static<S> : Else;

/** The JSON body a route takes (undefined: none). */
export type AppBody<K extends AppRouteName> = StaticOf<Def<K>, 'body', undefined>;
/** Its path parameters, as strings before the host normalises them. */
export type AppParams<K extends AppRouteName> = StaticOf<Def<K>, 'params', undefined>;
export type AppQuery<K extends AppRouteName> = StaticOf<Def<K>, 'query', undefined>;
export type AppHeaders<K extends AppRouteName> = StaticOf<Def<K>, 'headers', undefined>;
/** The 200 body of a JSON route. */
export type AppResponse<K extends AppRouteName> = StaticOf<Def<K>, 'response', never>;
/** Routes that answer JSON and take JSON (or nothing): what a plain typed call covers. */
export type AppJsonRoute = { [K in AppRouteName]: Def<K> extends { binary: true } | { rawBody: true } ? never : K }[AppRouteName];
