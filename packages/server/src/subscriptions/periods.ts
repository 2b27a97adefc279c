import type { AccountState, DurationUnit } from '@kluis/protocol';

export const DAY_MS = 24 * 60 * 60 * 1000;

/** `from` plus a plan's duration; months are calendar months (Jan 31 + 1 month = Feb 28/29). */
export function addPeriod(from: number, unit: DurationUnit, count: number): number {
  if (unit === 'days') return from + count * DAY_MS;
  const d = new Date(from);
  const day = d.getUTCDate();
  d.setUTCDate(1);
  d.setUTCMonth(d.getUTCMonth() + count);
  const lastDay = new Date(Date.UTC(d.getUTCFullYear(), d.getUTCMonth() + 1, 0)).getUTCDate();
  d.setUTCDate(Math.min(day, lastDay));
  return d.getTime();
}

/** Renewal extends from the later of now and the current end: paying early loses nothing. */
export function renewedUntil(paidUntil: number | null, now: number, unit: DurationUnit, count: number): number {
  return addPeriod(Math.max(now, paidUntil ?? now), unit, count);
}

export interface SubscriptionFacts {
  paidUntil: number | null;
  suspendedAt: number | null;
  purgedAt: number | null;
}

export function graceEndsAt(paidUntil: number | null, graceDays: number): number | null {
  return paidUntil === null ? null : paidUntil + graceDays * DAY_MS;
}

/** The one place the state of an account is decided; everything else asks this. */
export function accountState(facts: SubscriptionFacts, graceDays: number, now: number): AccountState {
  if (facts.purgedAt !== null) return 'purged';
  if (facts.suspendedAt !== null) return 'suspended';
  if (facts.paidUntil === null || now < facts.paidUntil) return 'active';
  if (now < facts.paidUntil + graceDays * DAY_MS) return 'grace';
  return 'suspended';
}

/** "2026-06-30": end dates in error messages are days, the unit people renew by. */
export function isoDay(ms: number): string {
  return new Date(ms).toISOString().slice(0, 10);
}

/**
 * Parses an ISO date ("2026-06-30", midnight UTC) or date-time with zone. Rejects dates
 * that do not exist (2026-02-30) instead of letting Date roll them over.
 */
export function parseIsoDate(text: string): number | undefined {
  const m = /^(\d{4})-(\d{2})-(\d{2})/.exec(text);
  if (!m) return undefined;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) return undefined;
  const ms = text.length === 10 ? check.getTime() : Date.parse(text);
  return Number.isFinite(ms) ? ms : undefined;
}
