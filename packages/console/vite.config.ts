import { defaultClientConditions, defineConfig } from 'vite';

// Served by the kluis server at /console with `default-src 'self'`: one script and one
// stylesheet from the same origin, nothing inline, no source maps shipped.
export default defineConfig({
  // Workspace packages from their TypeScript sources (exports "kluis-source"), not their dist/.
  resolve: { conditions: ['kluis-source', ...defaultClientConditions] },
  base: '/console/',
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    // The polyfill is only for browsers without modulepreload; every supported one has it.
    modulePreload: { polyfill: false },
    // Never inline assets as data: URLs: the CSP allows 'self' only.
    assetsInlineLimit: 0,
  },
});
