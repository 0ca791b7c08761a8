#!/usr/bin/env node
// Small checks for scripts/services.sh, using the project's own drivers:
//   probe.mjs pg URL          exit 0 when the PostgreSQL server of URL accepts a connection
//   probe.mjs redis URL       exit 0 when Redis answers PING
//   probe.mjs ensure-db URL   create URL's database when missing
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const [command, url] = process.argv.slice(2);

function serverUrl(raw) {
  const u = new URL(raw);
  u.pathname = '/postgres';
  return u.toString();
}

async function withClient(connectionString, fn) {
  const pg = require('pg');
  const client = new pg.Client({ connectionString, connectionTimeoutMillis: 2000 });
  client.on('error', () => undefined);
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

async function main() {
  if (command === 'pg') {
    await withClient(serverUrl(url), (c) => c.query('SELECT 1'));
    return;
  }
  if (command === 'redis') {
    const { Redis } = require('ioredis');
    const redis = new Redis(url, {
      lazyConnect: true,
      connectTimeout: 2000,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    redis.on('error', () => undefined);
    try {
      await redis.connect();
      if ((await redis.ping()) !== 'PONG') throw new Error('no PONG');
    } finally {
      redis.disconnect();
    }
    return;
  }
  if (command === 'ensure-db') {
    const name = decodeURIComponent(new URL(url).pathname.slice(1));
    if (!/^[A-Za-z0-9_-]+$/.test(name)) throw new Error(`unexpected database name ${name}`);
    await withClient(serverUrl(url), async (c) => {
      const { rowCount } = await c.query('SELECT 1 FROM pg_database WHERE datname = $1', [name]);
      if (!rowCount) await c.query(`CREATE DATABASE "${name}"`);
    });
    return;
  }
  throw new Error(`unknown probe ${command}`);
}

main().then(
  () => process.exit(0),
  (err) => {
    if (process.env.PROBE_VERBOSE) console.error(err.message);
    process.exit(1);
  },
);
