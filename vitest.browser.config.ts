import { defineConfig } from 'vitest/config';
import { defaultClientConditions, defaultServerConditions } from 'vite';

/*
 * `npm run test:browser`: the operator console and the kluis app in Debian's Chromium
 * (apt-get install -y chromium coturn), driven by playwright-core, with calls relayed by a
 * real coturn (test/harness/coturn.ts). Kept out of `npm test`, which needs npm packages
 * only; the global setup builds the console and the app with Vite first.
 */
export default defineConfig({
  // Workspace packages from their TypeScript sources (exports "kluis-source"), never from a
  // dist/ that may be stale; vite's own conditions stay.
  resolve: { conditions: ['kluis-source', ...defaultClientConditions] },
  ssr: { resolve: { conditions: ['kluis-source', ...defaultServerConditions] } },
  test: {
    include: ['test/browser/**/*.test.ts'],
    exclude: ['**/node_modules/**'],
    globalSetup: ['test/browser/global-setup.ts'],
    testTimeout: 120_000,
    hookTimeout: 120_000,
    pool: 'forks',
    reporters: ['default'],
  },
});
