// The console's build: `npm run build:renderer` → dist/renderer/, which the engine's admin server
// serves at `/` (engine/admin/static.ts). No inline scripts or styles are emitted, so the page runs
// under a CSP of `script-src 'self'` (the build must not add any: the e2e fails on CSP reports).
import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

const here = fileURLToPath(new URL('.', import.meta.url));
const monacoVs = fileURLToPath(new URL('../node_modules/monaco-editor/esm/vs/', import.meta.url));

// `npm run dev:renderer` with MESHDECK_ADMIN=http://127.0.0.1:PORT: Vite's dev server proxies /api to
// that engine as if the page were served by it (Host rewritten, the dev server's Origin dropped).
const admin = process.env.MESHDECK_ADMIN;

export default defineConfig({
  root: here,
  base: '/',
  plugins: [react()],
  resolve: {
    // monaco-yaml's worker imports monaco-editor/esm/vs/… paths, which monaco-editor's exports map
    // (./* → ./esm/vs/*) would double up; point them at the files themselves.
    alias: [{ find: /^monaco-editor\/esm\/vs\/(.*)$/, replacement: `${monacoVs}$1` }],
  },
  // Monaco's workers are ES modules (the YAML worker imports monaco-editor's worker bootstrap).
  worker: { format: 'es' },
  optimizeDeps: { include: ['monaco-yaml/yaml.worker.js'] },
  server: admin
    ? {
        proxy: {
          '/api': {
            target: admin,
            changeOrigin: true,
            configure: (proxy) => proxy.on('proxyReq', (req) => req.removeHeader('origin')),
          },
        },
      }
    : undefined,
  build: {
    outDir: fileURLToPath(new URL('../dist/renderer/', import.meta.url)),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
    // A module preload polyfill would be an inline script; Chromium and Electron do not need it.
    modulePreload: { polyfill: false },
    // The lazy editor chunk (Monaco + monaco-yaml, ~3.4 MB) is over any useful limit; the entry chunk stays under this.
    chunkSizeWarningLimit: 4000,
  },
});
