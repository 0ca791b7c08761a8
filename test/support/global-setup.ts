import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';

const root = path.resolve(__dirname, '../..');

/** A database named after the migrations' content: rebuilt only when they change. */
function templateName(): string {
  const dir = path.join(root, 'prisma/migrations');
  const hash = createHash('sha256');
  for (const name of fs.readdirSync(dir).sort()) {
    const file = path.join(dir, name, 'migration.sql');
    if (fs.existsSync(file)) hash.update(name).update(fs.readFileSync(file));
  }
  return `mr_tpl_${hash.digest('hex').slice(0, 12)}`;
}

function withDatabase(url: string, database: string): string {
  const u = new URL(url);
  u.pathname = `/${database}`;
  return u.toString();
}

/**
 * Applies the migrations once to a template database; each test file then copies it
 * (CREATE DATABASE ... TEMPLATE), which takes milliseconds and leaves files independent.
 */
export default async function setup(): Promise<() => Promise<void>> {
  const url = process.env.DATABASE_URL;
  if (!url || !process.env.REDIS_URL) {
    throw new Error('DATABASE_URL and REDIS_URL must be set: run the tests with `npm test`');
  }
  const runId = `${Date.now().toString(36)}${process.pid}`;
  process.env.MAILROOM_TEST_RUN = runId;
  const template = templateName();
  process.env.MAILROOM_TEST_TEMPLATE = template;

  const admin = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
  await admin.connect();
  const { rowCount } = await admin.query('SELECT 1 FROM pg_database WHERE datname = $1', [template]);
  if (!rowCount) {
    const building = `${template}_building_${process.pid}`;
    await admin.query(`CREATE DATABASE "${building}"`);
    execFileSync(process.execPath, [path.join(root, 'scripts/prisma-wasm.mjs'), 'deploy'], {
      env: { ...process.env, DATABASE_URL: withDatabase(url, building) },
      stdio: 'pipe',
    });
    await admin.query(`ALTER DATABASE "${building}" RENAME TO "${template}"`);
  }
  await admin.end();

  return async () => {
    const client = new pg.Client({ connectionString: withDatabase(url, 'postgres') });
    await client.connect();
    const { rows } = await client.query<{ datname: string }>('SELECT datname FROM pg_database WHERE datname LIKE $1', [
      `mr_t_${runId}_%`,
    ]);
    for (const { datname } of rows) await client.query(`DROP DATABASE IF EXISTS "${datname}" WITH (FORCE)`);
    await client.end();
  };
}
