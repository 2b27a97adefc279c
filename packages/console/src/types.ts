// Type-only: the protocol's schemas describe what the API returns; nothing of
// typebox ends up in the bundle.
export type { BrandView, BrandList, PlanView, PlanList } from '../../protocol/src/admin-brands.js';
export type { CodeView, CodeList, CreateCodesResponse, CodeStatus, CodeType } from '../../protocol/src/admin-codes.js';
export type { AccountView, AccountList, AccountState } from '../../protocol/src/admin-accounts.js';
export type { AdminMe, AdminStats, AdminView, AdminList, CreateAdminResponse, AuditEntry, AuditList } from '../../protocol/src/admin-tokens.js';
export type { AdminNodeList, NodeView } from '../../protocol/src/nodes.js';
