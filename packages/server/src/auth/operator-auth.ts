import type { Db } from '../db/schema.js';
import { unauthorized } from '../errors.js';
import type { OperatorTokenStore } from '../store/operator-tokens.js';
import { sha256 } from './secrets.js';

export class OperatorAuthenticator {
  constructor(
    private readonly db: Db,
    private readonly tokens: OperatorTokenStore,
  ) {}

  async authenticate(header: string | undefined): Promise<void> {
    const match = header ? /^Bearer\s+(\S{1,512})\s*$/i.exec(header) : null;
    if (!match) throw unauthorized('missing operator token (Authorization: Bearer <token>)');
    if (!(await this.tokens.exists(this.db, sha256(match[1]!)))) throw unauthorized('invalid operator token');
  }
}
