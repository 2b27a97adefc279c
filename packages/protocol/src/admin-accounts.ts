import { Type, type Static } from '@sinclair/typebox';
import { BrandSlug } from './admin-brands.js';
import { Limit } from './admin-codes.js';
import { DeviceId, Timestamp, Uuid } from './common.js';

/**
 * active: paid; grace: past paid-until, receives but cannot send; suspended: the socket
 * is refused (lapsed past grace, or by an admin); purged: keys and queues deleted.
 */
export const AccountState = Type.Union([Type.Literal('active'), Type.Literal('grace'), Type.Literal('suspended'), Type.Literal('purged')]);
export type AccountState = Static<typeof AccountState>;

/** What an admin may see of an account: never contacts, groups or message metadata. */
export const AccountView = Type.Object({
  id: Uuid,
  username: Type.String(),
  brand: BrandSlug,
  state: AccountState,
  /** Set when an admin suspended the account (as opposed to a lapsed subscription). */
  suspendedByAdmin: Type.Boolean(),
  paidUntil: Type.Union([Timestamp, Type.Null()]),
  graceEndsAt: Type.Union([Timestamp, Type.Null()]),
  deviceCount: Type.Integer(),
  createdAt: Timestamp,
  /** Midnight UTC of the latest day any device connected. */
  lastSeenDay: Type.Union([Timestamp, Type.Null()]),
});
export type AccountView = Static<typeof AccountView>;

export const AccountList = Type.Object({ accounts: Type.Array(AccountView) });
export type AccountList = Static<typeof AccountList>;

export const ListAccountsQuery = Type.Object(
  {
    brand: Type.Optional(BrandSlug),
    /** Username prefix (case-insensitive). */
    q: Type.Optional(Type.String({ minLength: 1, maxLength: 32 })),
    state: Type.Optional(AccountState),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type ListAccountsQuery = Static<typeof ListAccountsQuery>;

export const AccountParams = Type.Object({ accountId: Uuid });
export type AccountParams = Static<typeof AccountParams>;

export const RevokeDevicesRequest = Type.Object(
  {
    /** Default: every linked device (all but the primary). Including 1 locks the account out. */
    deviceIds: Type.Optional(Type.Array(DeviceId, { minItems: 1, maxItems: 127 })),
  },
  { additionalProperties: false },
);
export type RevokeDevicesRequest = Static<typeof RevokeDevicesRequest>;

export const RevokeDevicesResponse = Type.Object({ revoked: Type.Array(Type.Integer()) });
export type RevokeDevicesResponse = Static<typeof RevokeDevicesResponse>;
