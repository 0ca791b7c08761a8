import { readFileSync } from 'node:fs';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const envRule = {
  selector: "MemberExpression[object.name='process'][property.name='env']",
  message: 'Read settings through @mailroom/config, not process.env.',
};

// Only repositories (`*.repository.ts`), libs/db and the mail store touch Prisma or SQL
// (issue #13): services pass the `Tx`/`Db` handle of a unit of work on to repository methods.
const DATA_LAYER = 'Only *.repository.ts, libs/db and libs/mailstore query the database: move this into a repository.';
// The model delegates of the client (`tx.mailbox`, `prisma.dkimKey`, ...), read from the schema.
const models = [...readFileSync(new URL('./prisma/schema.prisma', import.meta.url), 'utf8').matchAll(/^model (\w+)/gm)]
  .map(([, name]) => name[0].toLowerCase() + name.slice(1))
  .join('|');
const operations = [
  'findMany',
  'findFirst',
  'findFirstOrThrow',
  'findUnique',
  'findUniqueOrThrow',
  'create',
  'createMany',
  'createManyAndReturn',
  'update',
  'updateMany',
  'updateManyAndReturn',
  'upsert',
  'delete',
  'deleteMany',
  'count',
  'aggregate',
  'groupBy',
].join('|');
const dataLayerRules = [
  {
    selector: `CallExpression[callee.property.name=/^(${operations})$/][callee.object.property.name=/^(${models})$/]`,
    message: DATA_LAYER,
  },
  {
    selector:
      'MemberExpression[property.name=/^\\$(queryRaw|queryRawUnsafe|executeRaw|executeRawUnsafe|transaction|connect|disconnect|extends|on|use|runCommandRaw)$/]',
    message: DATA_LAYER,
  },
  {
    selector:
      'Identifier[name=/^(Prisma|PrismaClient|PrismaService|TransactionClient|createPrismaClient|defineStatement)$/]',
    message: `${DATA_LAYER} Elsewhere pass the Tx or Db handle of @mailroom/db on.`,
  },
];
const dataLayerImports = {
  paths: [
    {
      name: '@mailroom/db',
      importNames: ['Prisma', 'PrismaClient', 'createPrismaClient', 'defineStatement'],
      message: `${DATA_LAYER} Elsewhere pass the Tx or Db handle of @mailroom/db on.`,
    },
  ],
  patterns: [{ group: ['@prisma/*', '**/generated/client', '**/generated/internal/*'], message: DATA_LAYER }],
};

export default tseslint.config(
  { ignores: ['dist/**', 'node_modules/**', 'libs/db/src/generated/**', 'coverage/**', '.mailroom/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    // apps/web (the dashboard) has its own tsconfig.json (DOM, JSX), which the project service finds.
    files: ['**/*.ts', '**/*.tsx'],
    languageOptions: { parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname } },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/switch-exhaustiveness-check': 'error',
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': ['error', { fixStyle: 'inline-type-imports' }],
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      eqeqeq: ['error', 'always'],
      curly: ['error', 'multi-line'],
      'no-restricted-syntax': ['error', envRule],
    },
  },
  {
    files: ['apps/**/*.ts', 'libs/**/*.ts'],
    ignores: ['**/*.repository.ts', '**/*.spec.ts', 'libs/db/**', 'libs/mailstore/**'],
    rules: {
      'no-restricted-syntax': ['error', envRule, ...dataLayerRules],
      'no-restricted-imports': ['error', dataLayerImports],
    },
  },
  {
    // Tests and the config loader are where the environment is read on purpose.
    files: ['test/**/*.ts', 'libs/config/src/**/*.ts', 'vitest.config.mts', 'apps/web/vite.config.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    files: ['libs/config/src/**/*.ts'],
    rules: { 'no-restricted-syntax': ['error', ...dataLayerRules] },
  },
  {
    files: ['**/*.mjs'],
    languageOptions: {
      globals: Object.fromEntries(
        [
          'process',
          'console',
          'URL',
          'WebAssembly',
          'Buffer',
          'fetch',
          'setTimeout',
          'clearTimeout',
          'setInterval',
          'clearInterval',
          'setImmediate',
          'performance',
          'AbortSignal',
          'TextDecoder',
        ].map((name) => [name, 'readonly']),
      ),
    },
  },
);
