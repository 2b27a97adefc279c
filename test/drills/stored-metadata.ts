import type Database from 'better-sqlite3';

const DAY = 86_400_000;

/** What the rows themselves say beyond their bytes: lengths and times a holder could join on. */
export interface StoredMetadataCheck {
  status: 'ok' | 'fail';
  /** Distinct lengths of the sealed device names (one = every name padded to one size). */
  deviceNameLengths: number[];
  devicesNamed: number;
  /** `table.column` holding a user time finer than a whole UTC day, with how many rows. */
  fineTimes: string[];
  /** One-time EC and Kyber prekey counts per device (what remains: an offline device's drops). */
  preKeyCounts: Array<{ ec: number; kyber: number }>;
}

/**
 * Times that describe a user must be whole UTC days (midnight; ends of paid periods and
 * suspensions the day's last millisecond), and sealed device names all one length.
 */
export function storedMetadataCheck(db: Database.Database): StoredMetadataCheck {
  const columns: Array<[table: string, column: string, remainder: number]> = [
    ['accounts', 'created_at', 0],
    ['accounts', 'paid_until', DAY - 1],
    ['accounts', 'suspended_at', DAY - 1],
    ['accounts', 'purged_at', 0],
    ['devices', 'created_at', 0],
    ['devices', 'last_seen_day', 0],
    ['profiles', 'updated_at', 0],
    ['link_codes', 'created_at', 0],
    ['invite_codes', 'used_at', 0],
  ];
  const fineTimes: string[] = [];
  for (const [table, column, remainder] of columns) {
    const { n } = db.prepare(`SELECT count(*) AS n FROM ${table} WHERE ${column} IS NOT NULL AND ${column} % ${DAY} != ${remainder}`).get() as { n: number };
    if (n > 0) fineTimes.push(`${table}.${column} (${n} rows)`);
  }
  const names = db.prepare('SELECT length(name) AS n FROM devices WHERE name IS NOT NULL').all() as Array<{ n: number }>;
  const deviceNameLengths = [...new Set(names.map((r) => r.n))].sort((a, b) => a - b);
  const preKeyCounts = db
    .prepare(
      `SELECT (SELECT count(*) FROM prekeys p WHERE p.account_id = d.account_id AND p.device_id = d.device_id) AS ec,
              (SELECT count(*) FROM kyber_prekeys k WHERE k.account_id = d.account_id AND k.device_id = d.device_id) AS kyber
       FROM devices d ORDER BY ec, kyber`,
    )
    .all() as Array<{ ec: number; kyber: number }>;
  const ok = fineTimes.length === 0 && deviceNameLengths.length <= 1;
  return { status: ok ? 'ok' : 'fail', deviceNameLengths, devicesNamed: names.length, fineTimes, preKeyCounts };
}

export function formatStoredMetadata(m: StoredMetadataCheck): string {
  const counts = new Map<string, number>();
  for (const c of m.preKeyCounts) counts.set(`${c.ec}/${c.kyber}`, (counts.get(`${c.ec}/${c.kyber}`) ?? 0) + 1);
  return [
    `stored times whole UTC days, device names one length: ${m.status} (fine times: ${m.fineTimes.join(', ') || 'none'}; ${m.devicesNamed} named devices, sealed name lengths ${m.deviceNameLengths.join(', ') || '-'} B)`,
    `one-time prekeys per device (EC/Kyber ×devices): ${[...counts].map(([k, n]) => `${k} ×${n}`).join(', ')}`,
  ].join('\n');
}
