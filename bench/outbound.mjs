// Outbound: drain a backlog of queued deliveries to a local SMTP sink, the real DeliveryAgent
// (compiled, from dist/) against a raw baseline, both in the same run on the same rows.
//
//   npm run build && node bench/outbound.mjs          (2,000 deliveries, ~2-4 min)
//   node bench/outbound.mjs --messages 10000          (the full run)
//   node bench/outbound.mjs --quick                   (300)
//   flags: --concurrency 10  --domains 20  --keep
//
// Backlog: one sender tenant with an active DKIM key, N outbound messages of ~5 KB, one
// delivery each to recipients spread over 20 destination domains whose MX (served by a local
// dns2 server) is a bare smtp-server sink that discards. Both runs pull BullMQ jobs (job id =
// delivery id, unique key prefix, queue removed afterwards) with the same concurrency:
//   mailroom: DeliveryAgent.deliver(): claim (compare-and-set), MX lookup, DKIM signing, one SMTP
//             session per message, outcome + delivery event in one transaction;
//   baseline: SELECT the raw message with pg, send it through a pooled nodemailer transport
//             (connections reused), UPDATE the delivery row to delivered.
import { createHash, randomBytes } from 'node:crypto';
import { createRequire } from 'node:module';
import path from 'node:path';
import pg from 'pg';
import { createBenchDatabase, dbCpuDelta, dbCpuSnapshot, freePort, serviceUrls, startNode } from './lib/env.mjs';
import { startDns } from './lib/mail.mjs';
import {
  fmt,
  log,
  machine,
  machineLine,
  markdownTable,
  parseFlags,
  percentile,
  ratio,
  root,
  saveResults,
} from './lib/report.mjs';

const require = createRequire(import.meta.url);
const dist = (p) => require(path.join(root, 'dist', p));
const { Queue, Worker } = require('bullmq');
const IORedis = require('ioredis');
const nodemailer = require('nodemailer');

const SENDER_DOMAIN = 'sender.bench.test';

function message(n) {
  const body = [];
  for (let size = 0; size < 5 * 1024; size += 78) body.push(randomBytes(57).toString('base64'));
  return Buffer.from(
    [
      `From: Alice <alice@${SENDER_DOMAIN}>`,
      `To: <r${n}@dest.bench.test>`,
      `Subject: outbound bench #${n}`,
      `Date: ${new Date().toUTCString()}`,
      `Message-ID: <${randomBytes(8).toString('hex')}@${SENDER_DOMAIN}>`,
      'MIME-Version: 1.0',
      'Content-Type: text/plain; charset=us-ascii',
      '',
      body.join('\r\n'),
      '',
    ].join('\r\n'),
  );
}

async function seed(url, { count, domains, masterKey }) {
  const { createPrismaClient } = dist('libs/db/src/index.js');
  const { newDkimKey } = dist('libs/onboarding/src/add-domain.js');
  const prisma = createPrismaClient({ url, poolSize: 2, applicationName: 'bench-seed' });
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tenant = await prisma.tenant.create({ data: { name: 'bench outbound' } });
    const domain = await prisma.domain.create({
      data: {
        tenantId: tenant.id,
        name: SENDER_DOMAIN,
        unicodeName: SENDER_DOMAIN,
        ownershipToken: 't',
        status: 'active',
      },
    });
    const key = await newDkimKey(masterKey, new Date(), []);
    await prisma.dkimKey.create({
      data: { tenantId: tenant.id, domainId: domain.id, ...key, status: 'active', activatedAt: new Date() },
    });
    for (let start = 0; start < count; start += 500) {
      const batch = Array.from({ length: Math.min(500, count - start) }, (_, i) => message(start + i));
      await client.query(
        `INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
         SELECT $1, unnest($2::text[]), unnest($3::int[]), unnest($4::bytea[])`,
        [tenant.id, batch.map((b) => createHash('sha256').update(b).digest('hex')), batch.map((b) => b.length), batch],
      );
    }
    await client.query(
      `INSERT INTO outbound_messages (tenant_id, kind, envelope_from, from_domain, subject, blob_sha256, size)
       SELECT tenant_id, 'submission', 'alice@${SENDER_DOMAIN}', '${SENDER_DOMAIN}', 'outbound bench', sha256, size
       FROM message_blobs WHERE tenant_id = $1`,
      [tenant.id],
    );
    await client.query(
      `INSERT INTO deliveries (tenant_id, outbound_message_id, recipient, recipient_domain, status, expires_at)
       SELECT tenant_id, id, 'r' || n || '@d' || (n % $1) || '.dest.bench.test', 'd' || (n % $1) || '.dest.bench.test',
              'queued', now() + interval '5 days'
       FROM (SELECT tenant_id, id, row_number() OVER (ORDER BY id) AS n FROM outbound_messages) o`,
      [domains],
    );
    await client.query('ANALYZE');
    const { rows } = await client.query('SELECT tenant_id, id FROM deliveries ORDER BY id');
    return { tenantId: tenant.id, deliveries: rows.map((r) => ({ tenantId: r.tenant_id, deliveryId: r.id })) };
  } finally {
    await client.end();
    await prisma.$disconnect();
  }
}

async function resetDeliveries(client) {
  await client.query('DELETE FROM delivery_events');
  await client.query(
    `UPDATE deliveries SET status = 'queued', attempts = 0, next_attempt_at = now(), last_attempt_at = NULL,
       last_response = NULL, last_response_code = NULL, remote_host = NULL, delivered_at = NULL`,
  );
  await client.query('VACUUM ANALYZE deliveries');
}

/** Queues every delivery as a BullMQ job and runs `handler` with `concurrency` until all finish. */
async function drain({ redisUrl, jobs, concurrency, handler, db }) {
  const prefix = `mrbench${randomBytes(4).toString('hex')}`;
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-delivery', { connection, prefix });
  await queue.addBulk(
    jobs.map((d) => ({ name: 'send', data: d, opts: { jobId: d.deliveryId, removeOnComplete: true } })),
  );
  const latencies = [];
  let failed = 0;
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  const dbBefore = await dbCpuSnapshot(client, db.name);
  const cpuBefore = process.cpuUsage();
  const started = performance.now();
  let finish;
  const finished = new Promise((resolve) => (finish = resolve));
  let done = 0;
  const workerConnection = connection.duplicate();
  const worker = new Worker(
    'bench-delivery',
    async (job) => {
      const t0 = performance.now();
      await handler(job.data);
      latencies.push(performance.now() - t0);
    },
    { connection: workerConnection, prefix, concurrency },
  );
  const count = () => {
    if (++done === jobs.length) finish();
  };
  worker.on('completed', count);
  worker.on('failed', (_job, err) => {
    failed++;
    if (failed <= 3) log(`job failed: ${err.message}`);
    count();
  });
  await finished;
  const seconds = (performance.now() - started) / 1000;
  const cpu = process.cpuUsage(cpuBefore);
  const dbAfter = await dbCpuSnapshot(client, db.name);
  await worker.close();
  await queue.obliterate({ force: true });
  await queue.close();
  connection.disconnect();
  workerConnection.disconnect();
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`);
  await client.end();
  return {
    seconds,
    perSecond: jobs.length / seconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    cpuMsPerMsg: (cpu.user + cpu.system) / 1000 / jobs.length,
    dbCpuMsPerMsg: (dbCpuDelta(dbBefore, dbAfter) * 1000) / jobs.length,
    delivered: rows[0].n,
    failed,
  };
}

async function main() {
  const flags = parseFlags();
  const count = Number(flags.messages ?? (flags.quick ? 300 : 2000));
  const concurrency = Number(flags.concurrency ?? 10);
  const domains = Number(flags.domains ?? 20);
  const { redisUrl } = serviceUrls();
  const masterKey = randomBytes(32);
  const db = await createBenchDatabase('outbound', { keep: !!flags.keep });
  const zone = [
    `mx.sink.bench.test. IN A 127.0.0.1`,
    ...Array.from({ length: domains }, (_, i) => `d${i}.dest.bench.test. IN MX 10 mx.sink.bench.test.`),
  ].join('\n');
  const dns = await startDns(zone);
  const sinkPort = await freePort();
  const sink = await startNode(path.join(root, 'bench/lib/bare-smtp.mjs'), {
    label: 'sink',
    port: sinkPort,
    args: ['discard', String(sinkPort)],
    env: {},
  });
  const rows = [];
  try {
    log(`seeding ${fmt(count)} outbound messages`);
    const { deliveries } = await seed(db.url, { count, domains, masterKey });
    const admin = new pg.Client({ connectionString: db.url });
    await admin.connect();

    // Baseline first, then the rows go back to queued for Mailroom.
    const pool = new pg.Pool({ connectionString: db.url, max: 10 });
    const transport = nodemailer.createTransport({
      pool: true,
      host: '127.0.0.1',
      port: sinkPort,
      ignoreTLS: true,
      maxConnections: concurrency,
      maxMessages: Infinity,
    });
    log(`baseline: BullMQ + pg + pooled nodemailer, ${fmt(count)} messages`);
    const baseline = await drain({
      redisUrl,
      jobs: deliveries,
      concurrency,
      db,
      handler: async ({ tenantId, deliveryId }) => {
        const { rows: r } = await pool.query(
          `SELECT d.recipient, o.envelope_from, b.bytes FROM deliveries d
           JOIN outbound_messages o ON o.tenant_id = d.tenant_id AND o.id = d.outbound_message_id
           JOIN message_blobs b ON b.tenant_id = o.tenant_id AND b.sha256 = o.blob_sha256
           WHERE d.tenant_id = $1 AND d.id = $2`,
          [tenantId, deliveryId],
        );
        const info = await transport.sendMail({
          envelope: { from: r[0].envelope_from, to: [r[0].recipient] },
          raw: r[0].bytes,
        });
        await pool.query(
          `UPDATE deliveries SET status = 'delivered', delivered_at = now(), last_response = $3, updated_at = now()
           WHERE tenant_id = $1 AND id = $2`,
          [tenantId, deliveryId, info.response],
        );
      },
    });
    transport.close();
    await pool.end();
    rows.push({ target: 'baseline', description: 'BullMQ + pg read + pooled nodemailer + status UPDATE', ...baseline });
    await resetDeliveries(admin);
    await admin.end();

    const { loadConfig } = dist('libs/config/src/index.js');
    const { createPrismaClient } = dist('libs/db/src/index.js');
    const { createNodeResolver } = dist('libs/dns/src/index.js');
    const { DeliveryAgent } = dist('apps/worker/src/delivery/delivery-agent.js');
    const config = loadConfig({
      NODE_ENV: 'development',
      LOG_LEVEL: 'warn',
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      MX_HOSTNAME: 'mx.mailroom.bench.test',
      MASTER_KEY: masterKey.toString('hex'),
      SMTP_DELIVERY_PORT: String(sinkPort),
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      WORKER_CONCURRENCY: String(concurrency),
    });
    const prisma = createPrismaClient({
      url: db.url,
      poolSize: config.DATABASE_POOL_SIZE,
      applicationName: 'bench-worker',
    });
    const agent = new DeliveryAgent(prisma, config, createNodeResolver(config.DNS_SERVERS, 2000, 2));
    log(`mailroom: DeliveryAgent, ${fmt(count)} messages`);
    const real = await drain({
      redisUrl,
      jobs: deliveries,
      concurrency,
      db,
      handler: async (ids) => {
        const result = await agent.deliver(ids);
        if (!result || result.delivered !== 1) throw new Error(`not delivered: ${JSON.stringify(result)}`);
      },
    });
    await prisma.$disconnect();
    rows.unshift({
      target: 'mailroom',
      description: 'DeliveryAgent (claim, MX, DKIM sign, SMTP, outcome tx)',
      ...real,
    });
  } finally {
    await sink.stop();
    await dns.close();
    await db.drop();
  }

  const base = rows.find((r) => r.target === 'baseline');
  const table = markdownTable(
    [
      'target',
      'drain s',
      'msg/s',
      'vs baseline',
      'p50 ms',
      'p99 ms',
      'CPU ms/msg',
      'DB CPU ms/msg',
      'delivered rows',
      'failed',
    ],
    rows.map((r) => [
      `${r.target}: ${r.description}`,
      fmt(r.seconds, 1),
      fmt(r.perSecond, 1),
      ratio(r.perSecond, base.perSecond),
      fmt(r.p50Ms, 1),
      fmt(r.p99Ms, 1),
      fmt(r.cpuMsPerMsg, 2),
      fmt(r.dbCpuMsPerMsg, 2),
      `${r.delivered} / ${count}${r.delivered === count ? ' ✓' : ' ✗'}`,
      fmt(r.failed),
    ]),
  );
  const markdown = [
    `### Outbound: drain a backlog of ${fmt(count)} deliveries, concurrency ${concurrency}`,
    '',
    `Machine: ${machineLine(machine())}. ~5 KB messages, ${domains} destination domains, MX from a local`,
    'dns2 server, sink: bare smtp-server discarding (it waits 100 ms before each greeting, so a fresh',
    'session per message costs ≥ 100 ms of wall time; the baseline reuses pooled connections).',
    'Latency: one job, from the handler starting to the status row updated. CPU: this process (worker',
    'code, BullMQ, the DNS server); DB CPU: the PostgreSQL backends of the bench database.',
    '',
    table,
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const files = saveResults('outbound', { messages: count, concurrency, domains, rows }, markdown);
  log(`saved ${files.json} and ${files.md}`);
  if (rows.some((r) => r.delivered !== count)) process.exitCode = 1;
}

main().then(
  // Pooled clients of the compiled libraries may hold the event loop open; the work is done.
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
