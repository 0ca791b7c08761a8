// Message bodies in PostgreSQL or in S3 (docs/scaling.md section 5): the mail store's write
// (APPEND: one transaction, the body put before commit) and read (readBlob, as IMAP FETCH BODY[]
// and POP3 RETR read it) of bodies of several sizes, with BLOB_STORE=db and with BLOB_STORE=s3
// against s3rver on loopback, sequentially, one at a time. Decides BLOB_S3_MIN_BYTES: below
// which size keeping a body in PostgreSQL is cheaper. s3rver is a JavaScript server writing to
// the local disk, so its absolute latency is not S3's (S3 adds 10-30 ms per request; MinIO
// on a LAN about 1 ms); the ratios still say where the per-request cost dominates.
//
//   npm run build && node bench/blob-store.mjs [--count 300] [--sizes 1024,4096,16384,65536,262144,1048576]
//
// Needs DATABASE_URL (a server where it may create and drop a database) like the tests.
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { parseFlags, percentile, root } from './lib/report.mjs';
import { startBenchS3 } from './lib/s3.mjs';

const require = createRequire(import.meta.url);
const { createPrismaClient } = require(path.join(root, 'dist/libs/db/src/index.js'));
const { BlobStore, MailStore, TenantUsage, blobStoreFromSettings, useBlobStore } = require(
  path.join(root, 'dist/libs/mailstore/src/index.js'),
);

const flags = parseFlags();
const COUNT = Number(flags.count ?? 300);
const SIZES = String(flags.sizes ?? '1024,4096,16384,65536,262144,1048576')
  .split(',')
  .map(Number);
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

async function seed(client) {
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
  const {
    rows: [m],
  } = await client.query(
    `INSERT INTO mailboxes (tenant_id, domain_id, local_part, password_hash, quota_bytes)
     VALUES ($1, $2, 'u', 'x', 1099511627776) RETURNING id`,
    [t.id, d.id],
  );
  const {
    rows: [f],
  } = await client.query(
    `INSERT INTO folders (tenant_id, mailbox_id, name, kind) VALUES ($1, $2, 'INBOX', 'inbox') RETURNING id`,
    [t.id, m.id],
  );
  await client.query(`UPDATE tenants SET storage_quota_bytes = 1099511627776 WHERE id = $1`, [t.id]);
  return { tenantId: t.id, mailboxId: m.id, folderId: f.id };
}

function message(size) {
  const head = Buffer.from(
    `From: a@bench.example\r\nTo: u@bench.example\r\nSubject: ${randomBytes(8).toString('hex')}\r\n\r\n`,
  );
  const body = Buffer.from(
    randomBytes(Math.ceil(size * 0.75))
      .toString('base64')
      .slice(0, Math.max(0, size - head.length)),
  );
  return Buffer.concat([head, body]);
}

const header = {
  messageId: null,
  subject: null,
  fromAddress: null,
  fromName: null,
  toAddresses: [],
  sentAt: null,
  sortKeys: null,
};

async function run(store, at, size) {
  const writes = [];
  const reads = [];
  for (let i = 0; i < COUNT; i++) {
    const raw = message(size);
    let t0 = performance.now();
    const stored = await store.append({ ...at, raw, flags: [], receivedAt: null, header });
    writes.push(performance.now() - t0);
    const [meta] = await store.messages(at.tenantId, at.folderId, [stored.uid]);
    t0 = performance.now();
    let n = 0;
    for await (const chunk of store.readBlob(at.tenantId, meta.blobSha256)) n += chunk.length;
    reads.push(performance.now() - t0);
    if (n !== raw.length) throw new Error(`read ${n} of ${raw.length} bytes`);
  }
  const stat = (xs) => ({
    mean: xs.reduce((a, b) => a + b, 0) / xs.length,
    p50: percentile(xs, 0.5),
    p99: percentile(xs, 0.99),
  });
  return { write: stat(writes), read: stat(reads) };
}

async function main() {
  await admin(`CREATE DATABASE "${name}"`);
  const url = urlOf(name);
  const s3 = await startBenchS3('0');
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts/prisma-wasm.mjs'), 'deploy'], {
      env: { ...process.env, DATABASE_URL: url },
      stdio: 'pipe',
    });
    const client = new pg.Client({ connectionString: url });
    await client.connect();
    const at = await seed(client);
    await client.end();
    const prisma = createPrismaClient({ url, poolSize: 4, applicationName: 'mailroom-bench' });
    const store = new MailStore(prisma, { usage: new TenantUsage() });
    const s3store = blobStoreFromSettings(s3.settings);
    const rows = [];
    for (const size of SIZES) {
      useBlobStore(new BlobStore());
      await run(store, at, size); // warm-up of both paths' statements and sockets
      useBlobStore(s3store);
      await run(store, at, size);
      useBlobStore(new BlobStore());
      const db = await run(store, at, size);
      useBlobStore(s3store);
      const s3r = await run(store, at, size);
      rows.push({ size, db, s3: s3r });
      const f = (x) => x.toFixed(2);
      console.log(
        `${String(size).padStart(8)} B  write db ${f(db.write.mean)} ms (p99 ${f(db.write.p99)})  s3 ${f(s3r.write.mean)} ms (p99 ${f(s3r.write.p99)})  |  read db ${f(db.read.mean)} ms (p99 ${f(db.read.p99)})  s3 ${f(s3r.read.mean)} ms (p99 ${f(s3r.read.p99)})`,
      );
    }
    await prisma.$disconnect();
    const out = path.join(root, 'bench/results', `blob-store-${new Date().toISOString().replace(/[:.]/g, '-')}.json`);
    fs.writeFileSync(out, JSON.stringify({ count: COUNT, rows }, null, 2));
    console.log(`results: ${path.relative(root, out)}`);
  } finally {
    await s3.close();
    await admin(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
  }
}

await main();
