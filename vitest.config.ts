import { defineConfig } from 'vitest/config';
import { defaultClientConditions, defaultServerConditions } from 'vite';

// Integration tests start real servers and real libsignal; give them room on a 2-core machine.
export default defineConfig({
  // Workspace packages from their TypeScript sources (exports "kluis-source"), never from a
  // dist/ that may be stale; vite's own conditions stay.
  resolve: { conditions: ['kluis-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['kluis-source', ...defaultServerConditions] } },
  test: {
    include: ['packages/*/src/**/*.test.ts', 'test/**/*.test.ts'],
    exclude: ['**/node_modules/**', 'test/cluster/**', 'test/browser/**'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
