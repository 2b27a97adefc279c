/**
 * Routes of the local API (`kluis app`): name → "METHOD /path", `:name` segments are path
 * parameters. Plain strings and no imports, so the page can use it as a value; the
 * schemas of each route are in contract.ts.
 */
export const AppRoutes = {
  // Onboarding: which state the profile is in, register or link, unlock, lock.
  state: 'GET /api/state',
  register: 'POST /api/register',
  link: 'POST /api/link',
  unlock: 'POST /api/unlock',
  lock: 'POST /api/lock',
  // Conversations and sending.
  conversations: 'GET /api/conversations',
  startChat: 'POST /api/chats',
  conversation: 'GET /api/conversations/:conv',
  messages: 'GET /api/conversations/:conv/messages',
  search: 'GET /api/search',
  send: 'POST /api/conversations/:conv/messages',
  markRead: 'POST /api/conversations/:conv/read',
  typing: 'POST /api/conversations/:conv/typing',
  setTimer: 'POST /api/conversations/:conv/timer',
  // Calls: signalling and the log (the page runs the media).
  callSignal: 'POST /api/conversations/:conv/call',
  callConfig: 'GET /api/calls/config',
  calls: 'GET /api/calls',
  dismissCall: 'POST /api/calls/:id/dismiss',
  // Files and single messages.
  upload: 'POST /api/files',
  attachment: 'GET /api/messages/:id/attachments/:index',
  react: 'POST /api/messages/:id/reactions',
  edit: 'PATCH /api/messages/:id',
  deleteMessage: 'DELETE /api/messages/:id',
  messageHistory: 'GET /api/messages/:id/history',
  // Groups.
  groups: 'GET /api/groups',
  createGroup: 'POST /api/groups',
  changeMembers: 'POST /api/groups/:conv/members',
  renameGroup: 'POST /api/groups/:conv/rename',
  leaveGroup: 'POST /api/groups/:conv/leave',
  // Safety numbers.
  contact: 'GET /api/contacts/:username',
  verify: 'POST /api/contacts/:username/verify',
  trust: 'POST /api/contacts/:username/trust',
  // Devices and the account.
  devices: 'GET /api/devices',
  removeDevice: 'DELETE /api/devices/:id',
  startLink: 'POST /api/devices/link',
  answerLink: 'POST /api/devices/link/answer',
  account: 'GET /api/account',
  setProfile: 'POST /api/account/profile',
  renew: 'POST /api/account/renew',
  createInvite: 'POST /api/account/invite',
} as const;
export type AppRouteName = keyof typeof AppRoutes;
export type AppMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

/** The one WebSocket of live events (token offered as a subprotocol, see the host's guard). */
export const EVENTS_PATH = '/api/events';

export function appRouteParts<K extends AppRouteName>(name: K): { method: AppMethod; path: string } {
  const [method, path] = AppRoutes[name].split(' ');
  return { method: method as AppMethod, path: path! };
}

/** The path with its parameters filled in, each percent-encoded. */
export function appRoutePath(path: string, params: Record<string, string | number> = {}): string {
  return path.replace(/:(\w+)/g, (_, name: string) => encodeURIComponent(String(params[name] ?? '')));
}
