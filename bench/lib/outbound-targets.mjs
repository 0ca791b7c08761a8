// The three systems bench/outbound.mjs drives, behind one shape:
//   queue(deliveries)  the backlog: jobs for rows already in PostgreSQL (timed from here)
//   submit(n)          one new message to recipient n, as its system accepts it (rate mode)
//   cpu(), peakRssMb() of the process(es) doing the delivery work; stop()
// mailroom: the built worker (dist/apps/worker/src/main.js) as its own process;
// baseline:  bench/lib/outbound-baseline.mjs as its own process;
// postfix:   a private Postfix relaying to the same sink (startPostfixRelay, bench/lib/postfix.mjs).
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { freePort, startNode } from './env.mjs';
import { dist, message, recipient, SENDER_DOMAIN, submitOne } from './outbound-data.mjs';
import { startPostfixRelay } from './postfix.mjs';
import { root } from './report.mjs';

const require = createRequire(import.meta.url);
const { Queue } = require('bullmq');
const IORedis = require('ioredis');
const nodemailer = require('nodemailer');

/** Deletes every Redis key under a queue prefix (jobs, schedulers, events) once a target is done. */
async function dropPrefix(redisUrl, prefix) {
  const redis = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  let cursor = '0';
  do {
    const [next, keys] = await redis.scan(cursor, 'MATCH', `${prefix}:*`, 'COUNT', 1000);
    if (keys.length > 0) await redis.del(...keys);
    cursor = next;
  } while (cursor !== '0');
  redis.disconnect();
}

async function addInChunks(queue, jobs) {
  for (let i = 0; i < jobs.length; i += 1000) await queue.addBulk(jobs.slice(i, i + 1000));
}

/**
 * The real worker process. `retry`: DELIVERY_RETRY_SCHEDULE=1s and SWEEP_INTERVAL_MS=1000, the
 * smallest values the config accepts: a deferred delivery comes back as a delayed job on the
 * worker's retry lane when its next_attempt_at is due (or through the sweep, if Redis lost it).
 */
export async function startMailroom({
  db,
  redisUrl,
  dnsPort,
  sinkPort,
  masterKey,
  concurrency,
  logLevel,
  retry,
  pool,
  tenantId,
  domains,
  profileDir,
  processes = 1,
}) {
  const prefix = `mrbench${randomBytes(4).toString('hex')}`;
  const dataDir = fs.mkdtempSync('/tmp/mailroom-bench-worker-');
  const env = {
    NODE_ENV: 'development',
    LOG_LEVEL: logLevel,
    DATABASE_URL: db.url,
    REDIS_URL: redisUrl,
    QUEUE_PREFIX: prefix,
    MX_HOSTNAME: 'mx.mailroom.bench.test',
    MASTER_KEY: masterKey.toString('hex'),
    DATA_DIR: dataDir,
    HEALTH_HOST: '127.0.0.1',
    DNS_SERVERS: `127.0.0.1:${dnsPort}`,
    SMTP_DELIVERY_PORT: String(sinkPort),
    WORKER_CONCURRENCY: String(concurrency / processes),
    ...(retry ? { DELIVERY_RETRY_SCHEDULE: '1s', SWEEP_INTERVAL_MS: '1000' } : {}),
    // --profile: a V8 CPU profile of the worker, written when it exits.
    ...(profileDir
      ? {
          NODE_OPTIONS: `--import ${path.join(root, 'bench/lib/outbound-profile.mjs')}`,
          BENCH_PROFILE_DIR: profileDir,
        }
      : {}),
  };
  // Several processes: replicas of the worker on the same queues (as a deployment would run
  // them), each with its own health port and its share of the concurrency.
  const workers = [];
  try {
    for (let n = 0; n < processes; n++) {
      const healthPort = await freePort();
      workers.push(
        await startNode(path.join(root, 'dist/apps/worker/src/main.js'), {
          label: processes > 1 ? `worker${n + 1}` : 'worker',
          port: healthPort,
          env: { ...env, WORKER_HEALTH_PORT: String(healthPort) },
        }),
      );
    }
  } catch (err) {
    await Promise.all(workers.map((w) => w.stop()));
    fs.rmSync(dataDir, { recursive: true, force: true });
    throw err;
  }
  const worker = {
    logFile: workers.map((w) => w.logFile).join(', '),
    cpu: () => workers.reduce((sum, w) => sum + w.cpu(), 0),
    peakRssMb: () => workers.reduce((sum, w) => sum + w.peakRssMb(), 0),
    stop: () => Promise.all(workers.map((w) => w.stop())),
  };
  const { JobName, JobProducer, jobIdFor, QueueName } = dist('libs/queue/src/index.js');
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const producer = new JobProducer(connection, prefix);
  return {
    name: 'mailroom',
    usesDb: true,
    env,
    logFile: worker.logFile,
    cpu: worker.cpu,
    peakRssMb: worker.peakRssMb,
    // As submission's onQueued would, in bulk: same job name, id and default options.
    queue: (deliveries) =>
      addInChunks(
        producer.queue(QueueName.Deliveries),
        deliveries.map(({ tenantId: t, deliveryId }) => {
          const data = { tenantId: t, deliveryId };
          return { name: JobName.DeliverySend, data, opts: { jobId: jobIdFor(JobName.DeliverySend, data) } };
        }),
      ),
    async submit(n) {
      const payload = await submitOne(pool, tenantId, n, domains);
      const committed = performance.timeOrigin + performance.now();
      await producer.add(JobName.DeliverySend, payload);
      return committed;
    },
    async stop() {
      await worker.stop();
      await producer.close();
      connection.disconnect();
      await dropPrefix(redisUrl, prefix);
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

/** The raw baseline process; jobs retry through BullMQ (8 attempts like JobProducer's, 1 s apart). */
export async function startBaseline({ db, redisUrl, sinkPort, concurrency, pool, tenantId, domains }) {
  const prefix = `mrbench${randomBytes(4).toString('hex')}`;
  const port = await freePort();
  const proc = await startNode(path.join(root, 'bench/lib/outbound-baseline.mjs'), {
    label: 'baseline',
    port,
    env: {
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      BENCH_PREFIX: prefix,
      BENCH_QUEUE: 'bench-delivery',
      BENCH_PORT: String(port),
      SINK_PORT: String(sinkPort),
      CONCURRENCY: String(concurrency),
    },
  });
  const connection = new IORedis(redisUrl, { maxRetriesPerRequest: null });
  const queue = new Queue('bench-delivery', {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: 8,
      backoff: { type: 'fixed', delay: 1000 },
      removeOnComplete: true,
      removeOnFail: true,
    },
  });
  const job = (data) => ({ name: 'send', data, opts: { jobId: `delivery-${data.deliveryId}` } });
  return {
    name: 'baseline',
    usesDb: true,
    logFile: proc.logFile,
    cpu: proc.cpu,
    peakRssMb: proc.peakRssMb,
    queue: (deliveries) =>
      addInChunks(
        queue,
        deliveries.map(({ tenantId: t, deliveryId }) => job({ tenantId: t, deliveryId })),
      ),
    async submit(n) {
      const payload = await submitOne(pool, tenantId, n, domains);
      const committed = performance.timeOrigin + performance.now();
      const { name, data, opts } = job(payload);
      await queue.add(name, data, opts);
      return committed;
    },
    stats: async () => (await fetch(`http://127.0.0.1:${port}/`)).json(),
    async stop() {
      await proc.stop();
      await queue.close();
      connection.disconnect();
      await dropPrefix(redisUrl, prefix);
    },
  };
}

/**
 * The retry schedule the workers get in tempfail mode, one second, for Postfix: a deferred
 * message is retried after 1 s, and the deferred queue is scanned every second. Set in every
 * mode (the released backlog passes through the deferred queue too).
 */
const POSTFIX_RETRY_1S = { queue_run_delay: '1s', minimal_backoff_time: '1s', maximal_backoff_time: '1s' };

/**
 * Postfix relaying to the sink, at most `concurrency` deliveries at once (like the workers' job
 * concurrency). The backlog is submitted over SMTP into the hold queue before the clock starts
 * (queue() only releases it); in rate mode each message is submitted over SMTP and counts as
 * accepted at Postfix's 250 (the queue file is on disk). CPU and memory: its whole process tree.
 */
export async function startPostfixTarget({ sinkPort, concurrency, hold, domains }) {
  const postfix = await startPostfixRelay({
    sink: { host: '127.0.0.1', port: sinkPort },
    destinationConcurrency: concurrency,
    hold,
    main: POSTFIX_RETRY_1S,
  });
  const transport = nodemailer.createTransport({
    pool: true,
    host: '127.0.0.1',
    port: postfix.port,
    ignoreTLS: true,
    maxConnections: concurrency,
    maxMessages: Infinity,
  });
  const send = (n) =>
    transport.sendMail({
      envelope: { from: `alice@${SENDER_DOMAIN}`, to: [recipient(n, domains)] },
      raw: message(n, domains),
    });
  return {
    name: 'postfix',
    usesDb: false,
    logFile: postfix.logFile,
    cpu: postfix.proc.cpu,
    peakRssMb: postfix.proc.peakRssMb,
    queued: postfix.queued,
    /** Untimed: fills the hold queue with `count` messages. */
    async prepare(count) {
      const inFlight = new Set();
      for (let n = 0; n < count; n++) {
        const p = send(n).finally(() => inFlight.delete(p));
        inFlight.add(p);
        if (inFlight.size >= concurrency * 2) await Promise.race(inFlight);
      }
      await Promise.all(inFlight);
    },
    queue: async () => postfix.release(),
    async submit(n) {
      await send(n);
      return performance.timeOrigin + performance.now();
    },
    async stop() {
      transport.close();
      await postfix.stop();
    },
  };
}
