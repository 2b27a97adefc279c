import { defineConfig } from 'vitest/config';
import { defaultClientConditions, defaultServerConditions } from 'vite';

/*
 * `npm run test:cluster`: suites that need Debian's postgresql and nats-server (so
 * they stay out of `npm test`, which needs npm packages only). The store and db
 * suites run again here against a real PostgreSQL; test/cluster holds the harness
 * and multi-node tests.
 */
export default defineConfig({
  // Workspace packages from their TypeScript sources (exports "kluis-source"), never from a
  // dist/ that may be stale; vite's own conditions stay.
  resolve: { conditions: ['kluis-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['kluis-source', ...defaultServerConditions] } },
  test: {
    include: ['packages/server/src/store/**/*.test.ts', 'packages/server/src/db/**/*.test.ts', 'packages/server/src/blobs/**/*.test.ts', 'packages/server/src/sealed/**/*.test.ts', 'test/cluster/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/cluster/global-setup.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
