import { defineConfig } from 'vite';

// Served by the local host (`kluis app`) under a CSP that allows this origin only: one
// script and one stylesheet, nothing inline, no source maps, no data: URLs.
export default defineConfig({
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
