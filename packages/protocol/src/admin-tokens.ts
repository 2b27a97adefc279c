import { Type, type Static } from '@sinclair/typebox';
import { BrandSlug } from './admin-brands.js';
import { Limit } from './admin-codes.js';
import { AccountState } from './admin-accounts.js';
import { DisplayText, Timestamp, Uuid } from './common.js';

/** operator: everything; brand-admin: one brand's plans, codes and accounts. */
export const AdminRole = Type.Union([Type.Literal('operator'), Type.Literal('brand-admin')]);
export type AdminRole = Static<typeof AdminRole>;

export const CreateAdminRequest = Type.Object(
  {
    /** Shown in the console and the audit log. */
    name: DisplayText(64),
    role: AdminRole,
    /** Required for brand-admin, forbidden for operator. */
    brand: Type.Optional(BrandSlug),
  },
  { additionalProperties: false },
);
export type CreateAdminRequest = Static<typeof CreateAdminRequest>;

export const AdminView = Type.Object({
  id: Uuid,
  name: Type.String(),
  role: AdminRole,
  brand: Type.Union([BrandSlug, Type.Null()]),
  createdAt: Timestamp,
  revokedAt: Type.Union([Timestamp, Type.Null()]),
});
export type AdminView = Static<typeof AdminView>;

/** The token is shown once; the server keeps only its SHA-256 hash. */
export const CreateAdminResponse = Type.Object({ admin: AdminView, token: Type.String() });
export type CreateAdminResponse = Static<typeof CreateAdminResponse>;

export const AdminList = Type.Object({ admins: Type.Array(AdminView) });
export type AdminList = Static<typeof AdminList>;

export const AdminParams = Type.Object({ adminId: Uuid });
export type AdminParams = Static<typeof AdminParams>;

/** Who did what, when: never user content or IP addresses. */
export const AuditEntry = Type.Object({
  id: Type.Integer(),
  at: Timestamp,
  adminId: Type.String(),
  adminName: Type.String(),
  role: Type.String(),
  brand: Type.Union([Type.String(), Type.Null()]),
  action: Type.String(),
  target: Type.Union([Type.String(), Type.Null()]),
  detail: Type.Union([Type.String(), Type.Null()]),
});
export type AuditEntry = Static<typeof AuditEntry>;

export const AuditList = Type.Object({ entries: Type.Array(AuditEntry) });
export type AuditList = Static<typeof AuditList>;

export const ListAuditQuery = Type.Object(
  {
    brand: Type.Optional(BrandSlug),
    /** Entries with a smaller id (paging backwards). */
    before: Type.Optional(Type.String({ pattern: '^[0-9]{1,15}$' })),
    limit: Type.Optional(Limit),
  },
  { additionalProperties: false },
);
export type ListAuditQuery = Static<typeof ListAuditQuery>;

export const AdminMe = Type.Object({ id: Uuid, name: Type.String(), role: AdminRole, brand: Type.Union([BrandSlug, Type.Null()]) });
export type AdminMe = Static<typeof AdminMe>;

const StateCounts = Type.Object({ active: Type.Integer(), grace: Type.Integer(), suspended: Type.Integer(), purged: Type.Integer() });

/** The console dashboard: counts only. */
export const AdminStats = Type.Object({
  brands: Type.Array(Type.Object({ brand: BrandSlug, accounts: StateCounts, codesUsedThisWeek: Type.Integer() })),
  /** Operator only (null for brand admins): these span every brand. */
  devicesOnline: Type.Union([Type.Integer(), Type.Null()]),
  envelopesQueued: Type.Union([Type.Integer(), Type.Null()]),
  health: Type.Object({ status: Type.Literal('ok'), uptimeSeconds: Type.Integer(), now: Timestamp }),
});
export type AdminStats = Static<typeof AdminStats>;

