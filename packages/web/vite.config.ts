import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));

// The server serves dist/ at / (and index.html for /r/<room>), under a Content-Security-Policy
// without inline scripts or styles: everything must be an external file, so no inlined assets,
// no module-preload polyfill (Vite injects it inline), absolute asset paths for /r/ pages.
export default defineConfig({
  root: here,
  base: '/',
  resolve: {
    // Bundle the SDK from its source index: the app never ships a stale SDK build, and the
    // web build does not depend on the SDK's tsc output existing.
    alias: [
      { find: /^@callwire\/client$/, replacement: fileURLToPath(new URL('../client/src/index.ts', import.meta.url)) },
      // No code generation under the CSP: see src/shims/typebox-compiler.ts.
      {
        find: /^@sinclair\/typebox\/compiler$/,
        replacement: fileURLToPath(new URL('./src/shims/typebox-compiler.ts', import.meta.url)),
      },
    ],
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    reportCompressedSize: false,
  },
});
