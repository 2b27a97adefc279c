/**
 * Message catalogs: every file in ./i18n is a language (its name is the file name),
 * so adding a language means adding one JSON file. English is the fallback for keys a
 * catalog lacks.
 */
type Catalog = Record<string, string>;

const files = import.meta.glob<Catalog>('./i18n/*.json', { eager: true, import: 'default' });
const catalogs: Record<string, Catalog> = {};
for (const [path, catalog] of Object.entries(files)) catalogs[path.replace(/^.*\/(\w+)\.json$/, '$1')] = catalog;

const FALLBACK = 'en';
const STORAGE_KEY = 'kluis.console.language';
let current = pickLanguage();

/** The stored choice, else the browser's first language we have, else English. */
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
  // Only the language choice is kept across sessions; the token never is.
  localStorage.setItem(STORAGE_KEY, code);
  document.documentElement.lang = code;
}

const lookup = (key: string): string | undefined => catalogs[current]?.[key] ?? catalogs[FALLBACK]?.[key];

/**
 * The message for `key` with `{name}` placeholders filled in. A `key.one` variant, when
 * a catalog has one, is used for a count of 1 (enough plural rules for English and Dutch).
 */
export function t(key: string, vars: Record<string, string | number> = {}): string {
  const template = (vars.count === 1 ? lookup(`${key}.one`) : undefined) ?? lookup(key) ?? key;
  return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
}

export function formatDate(ms: number | null): string {
  if (ms === null) return '—';
  return new Intl.DateTimeFormat(current, { dateStyle: 'medium', timeZone: 'UTC' }).format(ms);
}

export function formatDateTime(ms: number): string {
  return new Intl.DateTimeFormat(current, { dateStyle: 'short', timeStyle: 'medium', timeZone: 'UTC' }).format(ms) + ' UTC';
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(current).format(n);
}

export function formatPrice(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat(current, { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}
