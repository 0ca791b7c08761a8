import path from 'node:path';
import swc from 'unplugin-swc';
import { defineConfig } from 'vitest/config';

const lib = (name: string) => path.resolve(import.meta.dirname, `libs/${name}/src/index.ts`);

export default defineConfig({
  // SWC, not esbuild: NestJS needs emitDecoratorMetadata, which esbuild does not emit.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: {
    alias: {
      '@mailroom/config': lib('config'),
      '@mailroom/db': lib('db'),
      '@mailroom/core': lib('core'),
      '@mailroom/logger': lib('logger'),
      '@mailroom/queue': lib('queue'),
      '@mailroom/ops': lib('ops'),
    },
  },
  test: {
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/**/*.test.ts'],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Fail instead of passing when a filter matches nothing.
    passWithNoTests: false,
  },
});
