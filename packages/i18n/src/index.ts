/**
 * The message catalogs of the browser pages (operator console, app): one JSON file per
 * language, named by its code, so adding a language is adding one file. English (or
 * `fallback`) fills keys a catalog lacks. Kept small on purpose: t, hasKey and the
 * language choice are the whole interface the pages use.
 */
export type Catalog = Record<string, string>;

export interface I18nOptions {
  /** What `import.meta.glob('./i18n/*.json', { eager: true, import: 'default' })` returns: path → catalog. */
  files: Record<string, Catalog>;
  /** localStorage key of the chosen language (the only thing kept across sessions). */
  storageKey: string;
  fallback?: string;
}

export interface I18n {
  languages(): Array<{ code: string; name: string }>;
  language(): string;
  setLanguage(code: string): void;
  /** Called after every switch; returns the unsubscribe. */
  onLanguage(fn: () => void): () => void;
  hasKey(key: string): boolean;
  /** `{name}` placeholders filled in; a `key.one` variant, where a catalog has one, is used for a count of 1. */
  t(key: string, vars?: Record<string, string | number>): string;
}

// The browser's globals, looked up so that the module also loads where they are absent (tests).
interface PageGlobals {
  localStorage?: { getItem(k: string): string | null; setItem(k: string, v: string): void };
  navigator?: { languages?: readonly string[] };
  document?: { documentElement: { lang: string } };
}
const page = globalThis as PageGlobals;

export function createI18n(o: I18nOptions): I18n {
  const catalogs: Record<string, Catalog> = {};
  for (const [path, catalog] of Object.entries(o.files)) catalogs[path.replace(/^.*\/([\w-]+)\.json$/, '$1')] = catalog;
  const fallback = o.fallback ?? 'en';
  const listeners = new Set<() => void>();

  /** The stored choice, else the browser's first language we have, else the fallback. */
  const pick = (): string => {
    const stored = page.localStorage?.getItem(o.storageKey);
    if (stored && catalogs[stored]) return stored;
    for (const tag of page.navigator?.languages ?? []) {
      const base = tag.slice(0, 2).toLowerCase();
      if (catalogs[base]) return base;
    }
    return fallback;
  };
  let current = pick();
  const lookup = (key: string): string | undefined => catalogs[current]?.[key] ?? catalogs[fallback]?.[key];

  return {
    languages: () =>
      Object.keys(catalogs)
        .sort()
        .map((code) => ({ code, name: catalogs[code]!['language.name'] ?? code })),
    language: () => current,
    setLanguage(code) {
      if (!catalogs[code]) return;
      current = code;
      page.localStorage?.setItem(o.storageKey, code);
      if (page.document) page.document.documentElement.lang = code;
      for (const fn of listeners) fn();
    },
    onLanguage(fn) {
      listeners.add(fn);
      return () => void listeners.delete(fn);
    },
    hasKey: (key) => lookup(key) !== undefined,
    t(key, vars = {}) {
      const template = (vars.count === 1 ? lookup(`${key}.one`) : undefined) ?? lookup(key) ?? key;
      return template.replace(/\{(\w+)\}/g, (m, name: string) => (name in vars ? String(vars[name]) : m));
    },
  };
}
