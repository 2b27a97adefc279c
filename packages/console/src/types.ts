// Type-only: the protocol's schemas describe what the API returns; nothing of
// typebox ends up in the bundle.
export type { BrandView, BrandList, PlanView, PlanList } from '@kluis/protocol/admin-brands';
export type { CodeView, CodeList, CreateCodesResponse, CodeStatus, CodeType } from '@kluis/protocol/admin-codes';
export type { AccountView, AccountList, AccountState } from '@kluis/protocol/admin-accounts';
export type { AdminMe, AdminStats, AdminView, AdminList, CreateAdminResponse, AuditEntry, AuditList } from '@kluis/protocol/admin-tokens';
export type { AdminNodeList, NodeView } from '@kluis/protocol/nodes';
