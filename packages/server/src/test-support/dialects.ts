import { describe, inject } from 'vitest';

export type TestDialect = 'sqlite' | 'postgres';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Dialects the store suites run against; set by the project's globalSetup. */
    kluisTestDialects: TestDialect[];
    /** URL of the throwaway PostgreSQL's admin database (test:cluster only). */
    kluisPostgresUrl: string;
  }
}

/**
 * `npm test` needs npm packages only, so it runs the store suites on SQLite; the
 * cluster project (vitest.cluster.config.ts, `npm run test:cluster`) starts a real
 * PostgreSQL and runs the same suites on it.
 */
export function testDialects(): TestDialect[] {
  return inject('kluisTestDialects') ?? ['sqlite'];
}

/**
 * A store suite, once per dialect under test. The body opens its database with
 * `openTestDb(dialect)`; tests inside are the same for every dialect.
 */
export function describeStores(name: string, body: (dialect: TestDialect) => void): void {
  for (const dialect of testDialects()) describe(`${name} [${dialect}]`, () => body(dialect));
}

/** The admin URL of the test PostgreSQL, or a clear error outside the cluster project. */
export function testPostgresUrl(): string {
  const url = inject('kluisPostgresUrl');
  if (!url) throw new Error('no test PostgreSQL: run this suite with `npm run test:cluster`');
  return url;
}
