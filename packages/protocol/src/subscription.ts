import { Type, type Static } from '@sinclair/typebox';
import { AccountState } from './admin-accounts.js';
import { CodeInput, Timestamp } from './common.js';

/** Clients warn this long before paid-until passes. */
export const SUBSCRIPTION_WARNING_MS = 14 * 24 * 60 * 60 * 1000;

/** GET /v1/subscription: what a subscriber sees of their own subscription and brand. */
export const SubscriptionInfo = Type.Object({
  state: AccountState,
  /** null: no end date (accounts made before plans existed). */
  /** The last millisecond of the last paid UTC day (the server keeps it to the day); null = no end. */
  paidUntil: Type.Union([Timestamp, Type.Null()]),
  graceEndsAt: Type.Union([Timestamp, Type.Null()]),
  brand: Type.Object({
    slug: Type.String(),
    name: Type.String(),
    primaryColor: Type.Union([Type.String(), Type.Null()]),
    accentColor: Type.Union([Type.String(), Type.Null()]),
    logoUrl: Type.Union([Type.String(), Type.Null()]),
    defaultLanguage: Type.String(),
  }),
  memberInvites: Type.Object({ allowed: Type.Boolean(), quota: Type.Integer(), used: Type.Integer() }),
});
export type SubscriptionInfo = Static<typeof SubscriptionInfo>;

export const RenewRequest = Type.Object({ code: CodeInput }, { additionalProperties: false });
export type RenewRequest = Static<typeof RenewRequest>;

export const MemberInviteResponse = Type.Object({ code: Type.String(), remaining: Type.Integer() });
export type MemberInviteResponse = Static<typeof MemberInviteResponse>;
