import { defineConfig } from 'vite';

// Dev server: API calls go to a running Pharos (or Prometheus + Alertmanager behind the
// dev proxy in tests/dev-stack.mjs); PHAROS_URL picks where.
const target = process.env.PHAROS_URL ?? 'http://127.0.0.1:9090';

export default defineConfig({
  esbuild: { jsx: 'automatic', jsxImportSource: 'preact' },
  build: { outDir: 'dist', sourcemap: false, chunkSizeWarningLimit: 1500 },
  server: { proxy: { '/api': { target, changeOrigin: true } } },
});
