import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

/** Every language must say everything English says, with the same placeholders. */
describe('app (web) message catalogs', () => {
  const dir = new URL('./', import.meta.url);
  const load = (file: string) => JSON.parse(readFileSync(new URL(file, dir), 'utf8')) as Record<string, string>;
  const en = load('en.json');
  const placeholders = (s: string) => [...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]).sort();

  for (const file of readdirSync(dir).filter((f) => f.endsWith('.json') && f !== 'en.json')) {
    it(`${file} has every English key and placeholder`, () => {
      const other = load(file);
      expect(Object.keys(other).sort()).toEqual(Object.keys(en).sort());
      for (const [key, text] of Object.entries(en)) expect(placeholders(other[key]!), key).toEqual(placeholders(text));
    });
  }

  it('every key the source uses exists in English', () => {
    const src = new URL('../', import.meta.url);
    const files = readdirSync(src, { recursive: true, encoding: 'utf8' }).filter((f) => (f.endsWith('.ts') || f.endsWith('.tsx')) && !f.endsWith('.test.ts'));
    const used = new Set<string>();
    for (const f of files) for (const m of readFileSync(new URL(f, src), 'utf8').matchAll(/\bt\(\s*'([\w.-]+)'/g)) used.add(m[1]!);
    expect([...used].filter((k) => !(k in en))).toEqual([]);
  });
});
