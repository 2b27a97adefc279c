import type { TestProject } from 'vitest/node';
import { startPostgres } from '../harness/postgres.js';

/**
 * One throwaway PostgreSQL for the whole cluster run (~1 s to initdb and start);
 * each store test creates its own database on it. Torn down even when tests fail.
 */
export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const pg = await startPostgres({ database: 'kluis_admin' });
  project.provide('kluisPostgresUrl', pg.url);
  project.provide('kluisTestDialects', ['postgres']);
  return () => pg.stop();
}
