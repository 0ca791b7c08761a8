// What one more stored copy of a message body costs PostgreSQL: the inbound store keeps a body
// once per tenant (message_blobs is keyed by tenant and hash, under row-level security), so a
// message for mailboxes in three tenants writes its body three times.
//
//   node bench/body-copies.mjs                 (about 1 min)
//   flags: --statements 2000  --connections 20  --copies 0,1,3,5
//
// In a migrated bench database with a tenant per copy, `--connections` clients run `--statements`
// INSERTs into message_blobs in all, each the shape of the inbound statement's blob insert (one
// body as a binary parameter, one row per tenant in `unnest($1::uuid[])`), with the inbound
// bench's body mix (random bytes, 5 KB and 50 KB alternating, each row a new hash). Copies 0 is the
// same statement inserting no row: the round trip, binding the body and planning, but no
// transaction id, commit record or WAL flush, so not the fixed cost of a statement that writes.
// The table gives the database's backends' CPU per statement (from /proc; autovacuum is off for
// the table) and the WAL per statement (pg_stat_wal is the whole server's: run it on a quiet one).
// The difference between rows is the cost of the copies between them.
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { createBenchDatabase, dbCpuDelta, dbCpuSnapshot } from './lib/env.mjs';
import { fmt, log, machine, machineLine, markdownTable, parseFlags, saveResults } from './lib/report.mjs';

const flags = parseFlags();
const statements = Number(flags.statements ?? 2000);
const connections = Number(flags.connections ?? 20);
const copyCounts = String(flags.copies ?? '0,1,3,5')
  .split(',')
  .map(Number);
const SIZES = [5 * 1024, 50 * 1024];

const INSERT = `INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
  SELECT t, $2::text, $3::int, $4::bytea FROM unnest($1::uuid[]) AS t
  ON CONFLICT (tenant_id, sha256) DO NOTHING`;

async function walBytes(client) {
  // pg_stat_wal is flushed by each backend when it goes idle; wait for that.
  await new Promise((resolve) => setTimeout(resolve, 1200));
  const { rows } = await client.query('SELECT wal_bytes::float8 AS b FROM pg_stat_wal');
  return rows[0].b;
}

async function run(db, admin, tenants, copies, bodies) {
  const clients = [];
  for (let i = 0; i < connections; i++) {
    const c = new pg.Client({ connectionString: db.url });
    await c.connect();
    clients.push(c);
  }
  const targets = tenants.slice(0, copies);
  const cpuBefore = await dbCpuSnapshot(admin, db.name);
  const walBefore = await walBytes(admin);
  const start = process.hrtime.bigint();
  let next = 0;
  await Promise.all(
    clients.map(async (c) => {
      while (next < statements) {
        const i = next++;
        const body = bodies[i % bodies.length];
        await c.query({
          name: 'body_copies',
          text: INSERT,
          values: [targets, randomBytes(32).toString('hex'), body.length, body],
        });
      }
    }),
  );
  const seconds = Number(process.hrtime.bigint() - start) / 1e9;
  const cpu = dbCpuDelta(cpuBefore, await dbCpuSnapshot(admin, db.name));
  for (const c of clients) await c.end();
  const wal = (await walBytes(admin)) - walBefore;
  await admin.query('TRUNCATE message_blobs CASCADE');
  return { copies, perSecond: statements / seconds, cpuMs: (cpu * 1000) / statements, walKb: wal / statements / 1024 };
}

async function main() {
  const db = await createBenchDatabase('bodies');
  const admin = new pg.Client({ connectionString: db.url });
  await admin.connect();
  try {
    // Autovacuum would add its own CPU and WAL to whichever row it happened in.
    await admin.query('ALTER TABLE message_blobs SET (autovacuum_enabled = off, toast.autovacuum_enabled = off)');
    const { rows } = await admin.query(
      `INSERT INTO tenants (name) SELECT 'bench ' || g FROM generate_series(1, $1::int) g RETURNING id`,
      [Math.max(1, ...copyCounts)],
    );
    const tenants = rows.map((r) => r.id);
    const bodies = Array.from({ length: 40 }, (_, i) => randomBytes(SIZES[i % SIZES.length]));
    const results = [];
    for (const copies of copyCounts) {
      log(`${copies} copies per statement, ${statements} statements on ${connections} connections`);
      results.push(await run(db, admin, tenants, copies, bodies));
    }
    const table = markdownTable(
      ['copies per statement', 'statements/s', 'PostgreSQL CPU ms/statement', 'WAL KB/statement'],
      results.map((r) => [String(r.copies), fmt(r.perSecond, 0), fmt(r.cpuMs, 3), fmt(r.walKb, 1)]),
    );
    const markdown = [
      `### Body copies: ${statements} statements per row, ${connections} connections`,
      '',
      `Machine: ${machineLine(machine())}. Bodies: random bytes, 5 KB and 50 KB alternating, stored as`,
      'message_blobs stores them (bytea, STORAGE EXTERNAL), one row per tenant named in the statement.',
      "WAL: pg_stat_wal's growth over the row, the whole server's (quiet here unless something else ran).",
      '',
      table,
    ].join('\n');
    console.log(`\n${markdown}\n`);
    const files = saveResults('body-copies', { statements, connections, results }, markdown);
    log(`saved ${files.json} and ${files.md}`);
  } finally {
    await admin.end();
    await db.drop();
  }
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
