import path from 'node:path';
import react from '@vitejs/plugin-react';
import { config } from 'dotenv';
import { defineConfig } from 'vite';

// The dashboard (apps/web). `npm run build:web` writes dist/web, which the API serves at `/`;
// `npm run dev:web` serves it with hot reload and passes API paths to the API (API_PORT, 3000).
config({ path: path.resolve(import.meta.dirname, '../../.env'), quiet: true });
const api = `http://127.0.0.1:${process.env.API_PORT ?? '3000'}`;
const proxied = ['/v1', '/openapi.json', '/docs', '/health'];

export default defineConfig({
  root: import.meta.dirname,
  plugins: [react()],
  resolve: {
    alias: { '@mailroom/api-client': path.resolve(import.meta.dirname, '../../libs/api-client/src/index.ts') },
  },
  build: {
    outDir: path.resolve(import.meta.dirname, '../../dist/web'),
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: true,
  },
  server: {
    host: '127.0.0.1',
    port: Number(process.env.WEB_DEV_PORT ?? 5173),
    proxy: Object.fromEntries(proxied.map((prefix) => [prefix, { target: api, changeOrigin: false }])),
  },
});
