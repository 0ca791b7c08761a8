#!/usr/bin/env node
// Migrations through Prisma's schema engine compiled to WebAssembly (@prisma/schema-engine-wasm)
// over the pg driver adapter. Why not `prisma migrate deploy`: the Prisma CLI downloads a native
// schema-engine binary at first use, and machines that reach only the npm registry cannot fetch
// it. The WebAssembly engine ships inside an npm package, writes the same _prisma_migrations
// table and runs the same SQL, so `prisma migrate deploy` and this script are interchangeable.
//
//   node scripts/prisma-wasm.mjs deploy          apply committed migrations (never resets data)
//   node scripts/prisma-wasm.mjs new <name>      write prisma/migrations/<ts>_<name>/migration.sql
//                                                with the change since the committed schema.prisma
//
// DATABASE_URL names the database (read from the environment, then from .env).
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { execFileSync } from 'node:child_process';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const migrationsDir = path.join(root, 'prisma', 'migrations');
const schemaPath = path.join(root, 'prisma', 'schema.prisma');
const noFilter = { externalTables: [], externalEnums: [] };

async function loadEngineModule() {
  // The package's entry imports the .wasm as an ES module, which Node 20 cannot; instantiate
  // it by hand exactly as the wasm-bindgen glue would.
  const dir = path.join(root, 'node_modules', '@prisma', 'schema-engine-wasm');
  const bg = await import(path.join(dir, 'schema_engine_bg.js'));
  const bytes = fs.readFileSync(path.join(dir, 'schema_engine_bg.wasm'));
  const { instance } = await WebAssembly.instantiate(bytes, { './schema_engine_bg.js': bg });
  bg.__wbg_set_wasm(instance.exports);
  instance.exports.__wbindgen_start?.();
  return bg;
}

async function openEngine(url, schema) {
  const { SchemaEngine } = await loadEngineModule();
  const { PrismaPg } = require('@prisma/adapter-pg');
  const { bindMigrationAwareSqlAdapterFactory } = require('@prisma/driver-adapter-utils');
  const u = new URL(url);
  const config = {
    host: decodeURIComponent(u.hostname),
    port: Number(u.port || 5432),
    user: decodeURIComponent(u.username) || undefined,
    password: u.password ? decodeURIComponent(u.password) : undefined,
    database: decodeURIComponent(u.pathname.slice(1)) || undefined,
  };
  const main = new PrismaPg(config);
  const adapter = bindMigrationAwareSqlAdapterFactory({
    provider: main.provider,
    adapterName: main.adapterName,
    connect: async () => {
      const connection = await main.connect();
      // The adapter splits scripts on every ';', which breaks DO blocks and function bodies.
      // Send a migration whole, as the native engine does: PostgreSQL runs a multi-statement
      // simple query as one implicit transaction, so a failing migration leaves nothing behind.
      connection.executeScript = async (script) => {
        try {
          await connection.underlyingDriver().query(script);
        } catch (error) {
          connection.onError(error);
        }
      };
      return connection;
    },
    connectToShadowDb: () => Promise.reject(new Error('no shadow database: diffs are schema to schema')),
  });
  const engine = await SchemaEngine.new(
    { datamodels: [['schema.prisma', schema]] },
    () => {}, // the engine's own logs: not needed
    adapter,
  );
  return engine;
}

/** schema.prisma as committed at HEAD, or null when no migration exists yet. */
function committedSchema() {
  const hasMigrations = migrationList().migrationDirectories.length > 0;
  if (!hasMigrations) return null;
  try {
    return execFileSync('git', ['show', 'HEAD:prisma/schema.prisma'], { cwd: root, encoding: 'utf8' });
  } catch {
    throw new Error('cannot read prisma/schema.prisma at HEAD: commit the previous schema first');
  }
}

function migrationList() {
  const dirs = fs.existsSync(migrationsDir)
    ? fs
        .readdirSync(migrationsDir, { withFileTypes: true })
        .filter((d) => d.isDirectory())
        .map((d) => d.name)
        .sort()
    : [];
  const lockPath = path.join(migrationsDir, 'migration_lock.toml');
  return {
    baseDir: migrationsDir,
    lockfile: {
      path: 'migration_lock.toml',
      content: fs.existsSync(lockPath) ? fs.readFileSync(lockPath, 'utf8') : null,
    },
    shadowDbInitScript: '',
    migrationDirectories: dirs.map((name) => {
      const file = path.join(migrationsDir, name, 'migration.sql');
      return {
        path: name,
        migrationFile: {
          path: 'migration.sql',
          content: fs.existsSync(file)
            ? { tag: 'ok', value: fs.readFileSync(file, 'utf8') }
            : { tag: 'error', value: 'missing migration.sql' },
        },
      };
    }),
  };
}

function databaseUrl() {
  if (!process.env.DATABASE_URL) {
    try {
      require('dotenv').config({ path: path.join(root, '.env'), quiet: true });
    } catch {
      // dotenv is optional here
    }
  }
  const url = process.env.DATABASE_URL;
  if (!url) {
    console.error('DATABASE_URL: required (set it in the environment or in .env)');
    process.exit(1);
  }
  return url;
}

async function main() {
  const [command, arg] = process.argv.slice(2);
  const url = databaseUrl();
  if (command === 'deploy') {
    const engine = await openEngine(url, fs.readFileSync(schemaPath, 'utf8'));
    const out = await engine.applyMigrations({ migrationsList: migrationList(), filters: noFilter });
    const names = out.appliedMigrationNames;
    console.log(names.length ? `applied: ${names.join(', ')}` : 'database is up to date');
    return;
  }
  if (command === 'new') {
    if (!arg) throw new Error('usage: new <name>');
    const schema = fs.readFileSync(schemaPath, 'utf8');
    const engine = await openEngine(url, schema);
    // Diff schema to schema, with no database: from the schema as last committed (or from
    // nothing for the first migration) to the working copy. (The engine's database-describing
    // diff cannot read pg_catalog "char" columns through the pg adapter.)
    const previous = committedSchema();
    const result = await engine.diff({
      from: previous
        ? { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: previous }] }
        : { tag: 'empty' },
      to: { tag: 'schemaDatamodel', files: [{ path: 'schema.prisma', content: schema }] },
      script: true,
      exitCode: null,
      filters: noFilter,
    });
    const sql = (result.stdout ?? '').trim();
    if (sql === '' || sql === '-- This is an empty migration.') {
      console.log('nothing to migrate: schema.prisma equals the committed one');
      return;
    }
    const stamp = new Date().toISOString().replace(/\D/g, '').slice(0, 14);
    const dir = path.join(migrationsDir, `${stamp}_${arg}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, 'migration.sql'), sql + '\n');
    console.log(`wrote ${path.relative(root, dir)}/migration.sql`);
    return;
  }
  throw new Error(`unknown command ${command ?? ''}: use deploy or new <name>`);
}

main().then(
  () => process.exit(0),
  (err) => {
    console.error(err instanceof Error ? err.message : String(err));
    process.exit(1);
  },
);
