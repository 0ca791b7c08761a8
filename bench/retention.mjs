// Retention purge throughput: seeds a million Trash messages past their age and runs the real
// retention job (compiled, from dist/) over them; then seeds them again and deletes them with
// a raw `DELETE ... WHERE id = ANY(batch)` loop of the same batch size, with no quota, audit or
// hold work, as the baseline. Both in one run, on one fresh database.
//
//   npm run build && node bench/retention.mjs            (BENCH_MESSAGES=200000 for a quick run)
//
// Needs DATABASE_URL (a server where it may create and drop a database) like the tests.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';

const require = createRequire(import.meta.url);
const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { createPrismaClient } = require(path.join(root, 'dist/libs/db/src/index.js'));
const { runRetention } = require(path.join(root, 'dist/apps/worker/src/maintenance/retention.js'));
const { createMaintenanceMetrics, BATCH_SIZE } = require(
  path.join(root, 'dist/apps/worker/src/maintenance/job-run.js'),
);
const { Registry } = require('prom-client');

const TOTAL = Number(process.env.BENCH_MESSAGES ?? 1_000_000);
const MAILBOXES = 100;
const base = process.env.DATABASE_URL;
if (!base) throw new Error('DATABASE_URL is not set (export $(cat .mailroom/services/services.env))');
const urlOf = (db) => Object.assign(new URL(base), { pathname: `/${db}` }).toString();
const name = `mr_bench_${randomBytes(4).toString('hex')}`;

async function admin(sql) {
  const c = new pg.Client({ connectionString: urlOf('postgres') });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** A tenant with MAILBOXES mailboxes, each with a Trash of TOTAL / MAILBOXES 40-day-old messages. */
async function seed(client) {
  await client.query('TRUNCATE tenants CASCADE');
  const {
    rows: [t],
  } = await client.query(`INSERT INTO tenants (name) VALUES ('bench') RETURNING id`);
  const {
    rows: [d],
  } = await client.query(
    `INSERT INTO domains (tenant_id, name, unicode_name, ownership_token, status)
     VALUES ($1, 'bench.example', 'bench.example', 't', 'active') RETURNING id`,
    [t.id],
  );
  await client.query(`INSERT INTO message_blobs (tenant_id, sha256, size, bytes) VALUES ($1, 'b', 1, '\\x00')`, [t.id]);
  await client.query(
    `INSERT INTO mailboxes (tenant_id, domain_id, local_part, password_hash)
     SELECT $1, $2, 'u' || g, 'x' FROM generate_series(1, ${MAILBOXES}) g`,
    [t.id, d.id],
  );
  await client.query(
    `INSERT INTO folders (tenant_id, mailbox_id, name, kind) SELECT tenant_id, id, 'Trash', 'trash' FROM mailboxes`,
  );
  const per = Math.ceil(TOTAL / MAILBOXES);
  await client.query(
    `INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, size, flags, envelope_from, envelope_to, received_at)
     SELECT f.tenant_id, f.mailbox_id, f.id, 'b', g, 1000, '{}', 's@x', 'r@x', now() - interval '40 days' - make_interval(secs => g)
     FROM folders f CROSS JOIN generate_series(1, ${per}) g`,
  );
  await client.query(`UPDATE mailboxes SET used_bytes = ${per} * 1000, message_count = ${per}`);
  await client.query('VACUUM ANALYZE');
  const {
    rows: [n],
  } = await client.query('SELECT count(*)::int AS n FROM messages');
  return { tenantId: t.id, messages: n.n };
}

async function main() {
  await admin(`CREATE DATABASE "${name}"`);
  const url = urlOf(name);
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts/prisma-wasm.mjs'), 'deploy'], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: 'pipe',
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const prisma = createPrismaClient({ url, poolSize: 4, applicationName: 'mailroom-bench' });
    const results = [];

    let t0 = Date.now();
    const seeded = await seed(client);
    process.stderr.write(`seeded ${seeded.messages} messages in ${((Date.now() - t0) / 1000).toFixed(1)} s\n`);
    t0 = process.hrtime.bigint();
    const stats = await runRetention({ prisma, metrics: createMaintenanceMetrics(new Registry()) }, undefined);
    let seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    const {
      rows: [quota],
    } = await client.query(`SELECT sum(used_bytes)::bigint AS used, sum(message_count)::bigint AS n FROM mailboxes`);
    results.push({
      method: `retention.run (batch ${BATCH_SIZE}, quota + audit + run row per batch)`,
      rows: stats.messagesDeleted,
      seconds,
      note: `quota left ${quota.used} bytes, ${quota.n} messages`,
    });

    const again = await seed(client);
    t0 = process.hrtime.bigint();
    let deleted = 0;
    for (;;) {
      const { rows } = await client.query(
        `SELECT id FROM messages WHERE tenant_id = $1 ORDER BY tenant_id, id LIMIT ${BATCH_SIZE}`,
        [again.tenantId],
      );
      if (rows.length === 0) break;
      const res = await client.query('DELETE FROM messages WHERE tenant_id = $1 AND id = ANY($2::uuid[])', [
        again.tenantId,
        rows.map((r) => r.id),
      ]);
      deleted += res.rowCount;
    }
    seconds = Number(process.hrtime.bigint() - t0) / 1e9;
    results.push({
      method: `raw DELETE ... WHERE id = ANY(batch of ${BATCH_SIZE})`,
      rows: deleted,
      seconds,
      note: 'no quota, audit or hold check',
    });

    console.log(
      `\nRetention purge, ${seeded.messages} messages in ${MAILBOXES} Trash folders (PostgreSQL ${(await client.query('SHOW server_version')).rows[0].server_version})\n`,
    );
    console.log('| method | rows | seconds | rows/s | |');
    console.log('| --- | ---: | ---: | ---: | --- |');
    for (const r of results) {
      console.log(
        `| ${r.method} | ${r.rows} | ${r.seconds.toFixed(2)} | ${Math.round(r.rows / r.seconds)} | ${r.note} |`,
      );
    }
    await prisma.$disconnect();
    await client.end();
  } finally {
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
