/**
 * Message catalogs: every JSON file in ./i18n is a language named by its file, so adding
 * a language is adding one file. English fills keys a catalog lacks.
 */
type Catalog = Record<string, string>;

const files = import.meta.glob<Catalog>('./i18n/*.json', { eager: true, import: 'default' });
const catalogs: Record<string, Catalog> = {};
for (const [path, catalog] of Object.entries(files)) catalogs[path.replace(/^.*\/(\w+)\.json$/, '$1')] = catalog;

const FALLBACK = 'en';
const STORAGE_KEY = 'kluis.app.language';
let current = pickLanguage();
const listeners = new Set<() => void>();

function pickLanguage(): string {
  const stored = localStorage.getItem(STORAGE_KEY);
  if (stored && catalogs[stored]) return stored;
  for (const tag of navigator.languages ?? []) {
    const base = tag.slice(0, 2).toLowerCase();
    if (catalogs[base]) return base;
  }
  return FALLBACK;
}

export function languages(): Array<{ code: string; name: string }> {
  return Object.keys(catalogs)
    .sort()
    .map((code) => ({ code, name: catalogs[code]!['language.name'] ?? code }));
}

export function language(): string {
  return current;
}

export function setLanguage(code: string): void {
  if (!catalogs[code]) return;
  current = code;
  localStorage.setItem(STORAGE_KEY, code);
  document.documentElement.lang = code;
  for (const fn of listeners) fn();
}

export function onLanguage(fn: () => void): () => void {
  listeners.add(fn);
  return () => listeners.delete(fn);
}

const lookup = (key: string): string | undefined => catalogs[current]?.[key] ?? catalogs[FALLBACK]?.[key];
export const hasKey = (key: string): boolean => lookup(key) !== undefined;

/** `{name}` placeholders filled in; a `key.one` variant is used for a count of 1. */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const template = (vars.count === 1 ? lookup(`${key}.one`) : undefined) ?? lookup(key) ?? key;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export function formatTime(ms: number): string {
  const d = new Date(ms);
  const sameDay = d.toDateString() === new Date().toDateString();
  return new Intl.DateTimeFormat(current, sameDay ? { timeStyle: 'short' } : { dateStyle: 'short', timeStyle: 'short' }).format(d);
}

/** Dates the server keeps to the UTC day (paid-until, device created, last seen): shown as that day, in any zone. */
export function formatDate(ms: number): string {
  return new Intl.DateTimeFormat(current, { dateStyle: 'long', timeZone: 'UTC' }).format(ms);
}

/** "bob, carol and dave" in the current language. */
export function formatList(items: readonly string[]): string {
  return new Intl.ListFormat(current, { type: 'conjunction' }).format(items);
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
  return new Intl.NumberFormat(current, { style: 'unit', unit, unitDisplay: 'long' }).format(seconds / n);
}

export function formatBytes(n: number): string {
  const units = ['B', 'KB', 'MB', 'GB'];
  let i = 0;
  let v = n;
  while (v >= 1024 && i < units.length - 1) {
    v /= 1024;
    i++;
  }
  return `${new Intl.NumberFormat(current, { maximumFractionDigits: i === 0 ? 0 : 1 }).format(v)} ${units[i]}`;
}
