import { createI18n, type Catalog } from '@kluis/i18n';

/** The app's catalogs: every JSON file in ./i18n is a language named by its file. */
const i18n = createI18n({
  files: import.meta.glob<Catalog>('./i18n/*.json', { eager: true, import: 'default' }),
  storageKey: 'kluis.app.language',
});
export const { languages, language, setLanguage, onLanguage, hasKey, t } = i18n;

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const sameDay = d.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(language(), sameDay ? { timeStyle: 'short' } : { dateStyle: 'short', timeStyle: 'short' }).format(d);
}

/** Dates the server keeps to the UTC day (paid-until, device created, last seen): shown as that day, in any zone. */
export function formatDate(ms: number): string {
  return new Intl.DateTimeFormat(language(), { dateStyle: 'long', timeZone: 'UTC' }).format(ms);
}

/** "bob, carol and dave" in the current language. */
export function formatList(items: readonly string[]): string {
  return new Intl.ListFormat(language(), { type: 'conjunction' }).format(items);
}

const DURATION_UNITS: Array<[number, 'week' | 'day' | 'hour' | 'minute' | 'second']> = [
  [7 * 86400, 'week'],
  [86400, 'day'],
  [3600, 'hour'],
  [60, 'minute'],
  [1, 'second'],
];

/** "5 minutes", "1 uur": in the largest unit that fits exactly (timers come from any client). */
export function formatDuration(seconds: number): string {
  const [n, unit] = DURATION_UNITS.find(([n]) => seconds % n === 0) ?? [1, 'second'];
  return new Intl.NumberFormat(language(), { style: 'unit', unit, unitDisplay: 'long' }).format(seconds / n);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(language(), { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}
