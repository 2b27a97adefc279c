import { createI18n, type Catalog } from '@kluis/i18n';

/**
 * The console's catalogs: every file in ./i18n is a language (its name is the file name).
 * Only the language choice is kept across sessions; the token never is.
 */
const i18n = createI18n({
  files: import.meta.glob<Catalog>('./i18n/*.json', { eager: true, import: 'default' }),
  storageKey: 'kluis.console.language',
});
export const { languages, language, setLanguage, t } = i18n;

export function formatDate(ms: number | null): string {
  if (ms === null) return '—';
  return new Intl.DateTimeFormat(language(), { dateStyle: 'medium', timeZone: 'UTC' }).format(ms);
}

export function formatDateTime(ms: number): string {
  return new Intl.DateTimeFormat(language(), { dateStyle: 'short', timeStyle: 'medium', timeZone: 'UTC' }).format(ms) + ' UTC';
}

export function formatNumber(n: number): string {
  return new Intl.NumberFormat(language()).format(n);
}

export function formatPrice(cents: number, currency: string): string {
  try {
    return new Intl.NumberFormat(language(), { style: 'currency', currency }).format(cents / 100);
  } catch {
    return `${(cents / 100).toFixed(2)} ${currency}`;
  }
}
