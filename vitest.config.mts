import fs from 'node:fs';
import path from 'node:path';
import swc from 'unplugin-swc';
import { configDefaults, defineConfig } from 'vitest/config';

// The path aliases of tsconfig.json, so tests import libs, app modules and test helpers exactly
// as the type checker resolves them: `@mailroom/db` exactly, `@test/*` and `@mailroom/mta/*` by prefix.
const tsconfig = JSON.parse(fs.readFileSync(path.join(import.meta.dirname, 'tsconfig.json'), 'utf8')) as {
  compilerOptions: { paths: Record<string, string[]> };
};
const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
const alias = Object.entries(tsconfig.compilerOptions.paths).map(([name, [target]]) => {
  const to = path.resolve(import.meta.dirname, target!.replace(/\/\*$/, ''));
  return name.endsWith('/*')
    ? { find: new RegExp(`^${escape(name.slice(0, -2))}/(.*)$`), replacement: `${to}/$1` }
    : { find: new RegExp(`^${escape(name)}$`), replacement: to };
});

export default defineConfig({
  // SWC, not esbuild: NestJS needs emitDecoratorMetadata, which esbuild does not emit.
  plugins: [swc.vite({ module: { type: 'es6' } })],
  resolve: { alias },
  test: {
    include: ['libs/**/*.spec.ts', 'apps/**/*.spec.ts', 'test/**/*.test.ts'],
    // test/scale needs the Redis Cluster that `npm run test:scale` starts; `npm test` leaves it out.
    exclude: [...configDefaults.exclude, ...(process.env.MAILROOM_TEST_SCALE ? [] : ['test/scale/**'])],
    globalSetup: ['test/support/global-setup.ts'],
    pool: 'forks',
    testTimeout: 60_000,
    hookTimeout: 120_000,
    // Fail instead of passing when a filter matches nothing.
    passWithNoTests: false,
  },
});
