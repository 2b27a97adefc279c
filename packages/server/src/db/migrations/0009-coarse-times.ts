import { randomBytes } from 'node:crypto';
import { sql, type Kysely, type Migration } from 'kysely';

/* eslint-disable @typescript-eslint/no-explicit-any -- migrations run against the schema as it was then, not today's types */

const DAY_MS = 24 * 60 * 60 * 1000;
// As store/audit-log.ts wrote them when this migration was made (a migration is frozen).
const ACCOUNT_ACTION_PREFIX = 'account.';
const newAuditPseudonym = () => `deleted-${randomBytes(8).toString('hex')}`;

/**
 * Rows stored before the stores kept user times to the day: account, device, profile and
 * link-code times go down to midnight UTC, paid-until and suspended-at up to the last
 * millisecond of their day (no subscriber loses paid time or retention). Audit entries of
 * accounts already deleted or purged get a random pseudonym in place of the username, one
 * per account. Rounding cannot be undone, so down() leaves the rows as they are.
 */
export function coarseTimesMigration(): Migration {
  return {
    async up(db: Kysely<any>) {
      // Literal integers, so both databases divide as integers (a bound JS number may be a REAL in SQLite).
      const day = sql.lit(DAY_MS);
      const floor = (column: string) => sql`(${sql.ref(column)} / ${day}) * ${day}`;
      await sql`update accounts set created_at = ${floor('created_at')}`.execute(db);
      await sql`update accounts set paid_until = ${floor('paid_until')} + ${sql.lit(DAY_MS - 1)} where paid_until is not null`.execute(db);
      await sql`update accounts set purged_at = ${floor('purged_at')} where purged_at is not null`.execute(db);
      await sql`update accounts set suspended_at = ${floor('suspended_at')} + ${sql.lit(DAY_MS - 1)} where suspended_at is not null`.execute(db);
      await sql`update devices set created_at = ${floor('created_at')}`.execute(db);
      await sql`update profiles set updated_at = ${floor('updated_at')}`.execute(db);
      await sql`update link_codes set created_at = ${floor('created_at')}`.execute(db);
      await sql`update invite_codes set used_at = ${floor('used_at')} where used_at is not null`.execute(db);
      await pseudonymiseGoneAccounts(db);
    },
    async down() {},
  };
}

/**
 * A username can be deleted and registered again, so entries are matched in log order:
 * everything up to an account.delete of a name belongs to the account deleted there.
 */
async function pseudonymiseGoneAccounts(db: Kysely<any>): Promise<void> {
  const accountEntries = () => db.selectFrom('audit_log').where('action', 'like', `${ACCOUNT_ACTION_PREFIX}%`).where('target', 'is not', null);
  const deletions = await accountEntries().select(['id', 'target']).where('action', '=', `${ACCOUNT_ACTION_PREFIX}delete`).orderBy('id').execute();
  for (const d of deletions) {
    await db
      .updateTable('audit_log')
      .set({ target: newAuditPseudonym() })
      .where('action', 'like', `${ACCOUNT_ACTION_PREFIX}%`)
      .where('target', '=', d.target)
      .where('id', '<=', d.id)
      .execute();
  }
  // Purged accounts keep their row (and name); their entries lose it. Then any name that is
  // no account's any more (gone by a path that left no delete entry).
  const purged = await db.selectFrom('accounts').select(['id', 'username']).where('purged_at', 'is not', null).execute();
  const live = new Set((await db.selectFrom('accounts').select('username').where('purged_at', 'is', null).execute()).map((r) => r.username as string));
  const targets = new Map<string, string>();
  for (const p of purged) {
    const pseudonym = newAuditPseudonym();
    targets.set(p.username, pseudonym);
    targets.set(p.id, pseudonym);
  }
  for (const r of await accountEntries().select('target').distinct().execute()) {
    const t = r.target as string;
    if (!live.has(t) && !t.startsWith('deleted-') && !targets.has(t)) targets.set(t, newAuditPseudonym());
  }
  for (const [target, pseudonym] of targets) {
    await db.updateTable('audit_log').set({ target: pseudonym }).where('action', 'like', `${ACCOUNT_ACTION_PREFIX}%`).where('target', '=', target).execute();
  }
}
