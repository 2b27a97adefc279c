import { chmod, rename, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { INVITE_CODE_LENGTH, newCode, newOperatorToken } from './auth/secrets.js';
import type { AppContext } from './context.js';
import { randomUUID } from 'node:crypto';
import { DEFAULT_BRAND_ID } from './store/brands.js';

export interface FirstStart {
  operatorTokenFile: string;
  invite: string;
}

export const OPERATOR_TOKEN_FILE = 'operator-token';

/**
 * On an empty database: the default brand, an operator token (file mode 0600, only
 * its hash in the database) and one invite. "Empty" means no brand yet, so a crash
 * before the commit simply repeats this on the next start.
 *
 * Cluster nodes starting together may all find the database empty: the default
 * brand's primary key lets one commit, and the others' transactions fail; a node
 * that then finds a brand knows another node did the first start. The token file is
 * therefore moved into place only after the commit, so a losing node (which may share
 * the data directory, as the test harness does) never replaces the winner's token.
 */
export async function firstStartIfNeeded(ctx: Pick<AppContext, 'db' | 'stores' | 'clock' | 'transaction'>, dataDir: string): Promise<FirstStart | undefined> {
  if ((await ctx.stores.brands.count(ctx.db)) > 0) return undefined;
  const now = ctx.clock();
  const { token, hash } = newOperatorToken();
  const file = join(dataDir, OPERATOR_TOKEN_FILE);
  const temp = `${file}.${process.pid}.${randomUUID()}.tmp`;
  await writeFile(temp, token + '\n', { mode: 0o600 });
  await chmod(temp, 0o600);
  const invite = newCode(INVITE_CODE_LENGTH);
  try {
    await ctx.transaction(async (trx) => {
      await ctx.stores.brands.insert(trx, { id: DEFAULT_BRAND_ID, name: 'kluis', createdAt: now });
      // A six-month plan, the period kluis' predecessor sold; the operator adds real plans later.
      const planId = randomUUID();
      await ctx.stores.plans.insert(trx, { id: planId, brandId: DEFAULT_BRAND_ID, name: '6 months', durationUnit: 'months', durationCount: 6, priceCents: 0, currency: 'EUR', createdAt: now, retiredAt: null });
      await ctx.stores.operatorTokens.insert(trx, hash, now);
      await ctx.stores.invites.insert(trx, [{ codeHash: invite.hash, brandId: DEFAULT_BRAND_ID, createdAt: now, expiresAt: null, id: randomUUID(), planId }]);
    });
  } catch (err) {
    await rm(temp, { force: true });
    // Another node committed the first start meanwhile (duplicate default brand).
    if ((await ctx.stores.brands.count(ctx.db).catch(() => 0)) > 0) return undefined;
    throw err;
  }
  await rename(temp, file);
  return { operatorTokenFile: file, invite: invite.display };
}
