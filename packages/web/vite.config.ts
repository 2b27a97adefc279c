import { defaultClientConditions, defineConfig } from 'vite';

// Served by the local host (`kluis app`) under a CSP that allows this origin only: one
// script and one stylesheet, nothing inline, no source maps, no data: URLs.
export default defineConfig({
  // Workspace packages from their TypeScript sources (exports "kluis-source"), not their dist/.
  resolve: { conditions: ['kluis-source', ...defaultClientConditions] },
  base: '/',
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    modulePreload: { polyfill: false },
    assetsInlineLimit: 0,
  },
});
