// The outbound baseline, run as its own process like the worker so both are measured the same
// way (/proc CPU, peak RSS): BullMQ jobs { tenantId, deliveryId } that read the raw message with
// pg, send it through a pooled nodemailer transport straight to the sink (no DNS, no DKIM) and
// UPDATE the delivery row. A 4xx marks the row deferred and fails the job, so BullMQ retries it
// with the attempts/backoff the producer gave the job.
//
//   BENCH_PORT (stats over HTTP, also "ready")  BENCH_PREFIX  BENCH_QUEUE  SINK_PORT
//   CONCURRENCY  DATABASE_URL  REDIS_URL
import http from 'node:http';
import { createRequire } from 'node:module';
import pg from 'pg';

const require = createRequire(import.meta.url);
const { Worker } = require('bullmq');
const IORedis = require('ioredis');
const nodemailer = require('nodemailer');

const env = process.env;
const concurrency = Number(env.CONCURRENCY ?? 10);
const pool = new pg.Pool({ connectionString: env.DATABASE_URL, max: concurrency, application_name: 'bench-baseline' });
const transport = nodemailer.createTransport({
  pool: true,
  host: '127.0.0.1',
  port: Number(env.SINK_PORT),
  ignoreTLS: true,
  maxConnections: concurrency,
  maxMessages: Infinity,
});
const stats = { completed: 0, failed: 0, retried: 0 };

const connection = new IORedis(env.REDIS_URL, { maxRetriesPerRequest: null });
const worker = new Worker(
  env.BENCH_QUEUE,
  async (job) => {
    const { tenantId, deliveryId } = job.data;
    const started = new Date();
    const { rows } = await pool.query(
      `SELECT d.recipient, o.envelope_from, b.bytes FROM deliveries d
       JOIN outbound_messages o ON o.tenant_id = d.tenant_id AND o.id = d.outbound_message_id
       JOIN message_blobs b ON b.tenant_id = o.tenant_id AND b.sha256 = o.blob_sha256
       WHERE d.tenant_id = $1 AND d.id = $2`,
      [tenantId, deliveryId],
    );
    let info;
    try {
      info = await transport.sendMail({
        envelope: { from: rows[0].envelope_from, to: [rows[0].recipient] },
        raw: rows[0].bytes,
      });
    } catch (err) {
      await pool.query(
        `UPDATE deliveries SET status = 'deferred', attempts = attempts + 1, last_attempt_at = $3,
           last_response = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
        [tenantId, deliveryId, started, String(err.response ?? err.message)],
      );
      throw err;
    }
    // last_attempt_at is when this job began, so delivered_at - last_attempt_at is the job's time.
    await pool.query(
      `UPDATE deliveries SET status = 'delivered', attempts = attempts + 1, last_attempt_at = $3,
         delivered_at = now(), last_response = $4, updated_at = now() WHERE tenant_id = $1 AND id = $2`,
      [tenantId, deliveryId, started, info.response],
    );
  },
  { connection, prefix: env.BENCH_PREFIX, concurrency },
);
worker.on('completed', () => stats.completed++);
worker.on('failed', (job) => {
  if (job && job.attemptsMade < (job.opts.attempts ?? 1)) stats.retried++;
  else stats.failed++;
});
worker.on('error', (err) => process.stderr.write(`baseline worker: ${err.message}\n`));

const server = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify(stats));
});
server.listen(Number(env.BENCH_PORT), '127.0.0.1');

process.on('SIGTERM', async () => {
  await worker.close();
  transport.close();
  await pool.end();
  connection.disconnect();
  server.close();
  process.exit(0);
});
