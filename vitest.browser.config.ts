import { defineConfig } from 'vitest/config';

/*
 * `npm run test:browser`: the operator console in Debian's Chromium (apt-get install -y
 * chromium), driven by playwright-core. Kept out of `npm test`, which needs npm
 * packages only; the global setup builds the console with Vite first.
 */
export default defineConfig({
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
