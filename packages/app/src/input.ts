import { ErrorCode, isGroupConversation, normalizeUsername, USERNAME_PATTERN } from '@kluis/protocol';
import type { Client } from '@kluis/sdk';
import { AppError } from './errors.js';
import type { AppSession } from './session.js';

const USERNAME = new RegExp(USERNAME_PATTERN);

export const client = (c: { session: AppSession }): Client => c.session.requireClient();
export const ok = { ok: true } as const;

export function username(raw: string): string {
  const u = normalizeUsername(raw.replace(/^@/, ''));
  if (!USERNAME.test(u)) throw new AppError(400, ErrorCode.InvalidUsername, 'a username is 3-32 characters of a-z 0-9 _ .');
  return u;
}

/** The SDK takes a username or a group's conversation id ("g:…"). */
export function conversation(raw: string): string {
  return isGroupConversation(raw) ? raw : username(raw);
}
