import { describe, expect, it } from 'vitest';
import { createI18n } from './index.js';

describe('page message catalogs', () => {
  const files = {
    './i18n/en.json': { 'language.name': 'English', hi: 'Hello {name}', items: '{count} items', 'items.one': 'one item', onlyEn: 'only in English' },
    './i18n/nl.json': { 'language.name': 'Nederlands', hi: 'Hallo {name}', items: '{count} dingen', 'items.one': 'één ding' },
  };

  it('fills placeholders, uses the .one variant for a count of 1, falls back to English, then to the key', () => {
    const i = createI18n({ files, storageKey: 'test.language' });
    expect(i.language()).toBe('en');
    expect(i.t('hi', { name: 'bob' })).toBe('Hello bob');
    expect(i.t('hi')).toBe('Hello {name}');
    expect(i.t('items', { count: 1 })).toBe('one item');
    expect(i.t('items', { count: 3 })).toBe('3 items');
    const heard: string[] = [];
    i.onLanguage(() => heard.push(i.language()));
    i.setLanguage('nl');
    i.setLanguage('xx');
    expect(heard).toEqual(['nl']);
    expect(i.t('items', { count: 1 })).toBe('één ding');
    expect(i.t('onlyEn')).toBe('only in English');
    expect(i.hasKey('nope')).toBe(false);
    expect(i.t('nope')).toBe('nope');
    expect(i.languages()).toEqual([
      { code: 'en', name: 'English' },
      { code: 'nl', name: 'Nederlands' },
    ]);
  });
});
