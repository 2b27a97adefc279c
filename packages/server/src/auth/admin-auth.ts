import type { Db } from '../db/schema.js';
import { forbidden, unauthorized } from '../errors.js';
import type { AdminToken, AdminTokenStore } from '../store/admin-tokens.js';
import { sha256 } from './secrets.js';

export type AdminIdentity = Omit<AdminToken, 'createdAt' | 'revokedAt'>;

/**
 * Bearer admin tokens (operator or brand admin). Looked up by the hash of the presented
 * token on every request, so a revocation takes effect at once (no cache to outlive it).
 */
export class AdminAuthenticator {
  constructor(
    private readonly db: Db,
    private readonly tokens: AdminTokenStore,
  ) {}

  async authenticate(header: string | undefined): Promise<AdminIdentity> {
    const match = header ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    if (!match) throw unauthorized('missing admin token (Authorization: Bearer <token>)');
    const token = await this.tokens.byHash(this.db, sha256(match[1]!));
    if (!token) throw unauthorized('invalid or revoked admin token');
    return { id: token.id, name: token.name, role: token.role, brandId: token.brandId };
  }
}

/** Operator-only actions: brands themselves, admin tokens, anything spanning brands. */
export function requireOperator(admin: AdminIdentity): void {
  if (admin.role !== 'operator') throw forbidden('only an operator may do this');
}

/**
 * A brand admin reaches only its own brand. The same answer for "other brand" and
 * "no such brand" would hide which brands exist; 403 is kept because brand admins are
 * told their brand anyway and the message is clearer.
 */
export function requireBrand(admin: AdminIdentity, brandId: string): void {
  if (admin.role === 'operator') return;
  if (admin.brandId !== brandId) throw forbidden(`this admin token is limited to brand '${admin.brandId}'`);
}
