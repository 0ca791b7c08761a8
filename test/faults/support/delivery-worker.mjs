// A small delivery worker for the fault tests, run as its own process so a test can kill -9 it:
// the real DeliveryAgent from dist/ behind a BullMQ queue of its own (FAULT_QUEUE under
// QUEUE_PREFIX), plus the sweeper that re-finds due deliveries Redis lost and queues them again
// with the delivery id as job id. Stands in for apps/worker until the delivery job is wired
// there (JobName.DeliverySend); the agent, its claim and its outcomes are the production code.
// Settings come from the same validated config as the apps; FAULT_* are this script's own.
import http from 'node:http';
import { createRequire } from 'node:module';
import path from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';

const require = createRequire(import.meta.url);
const dist = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../../dist');
const { loadConfig } = require(path.join(dist, 'libs/config/src/index.js'));
const { createPrismaClient } = require(path.join(dist, 'libs/db/src/index.js'));
const { createNodeResolver } = require(path.join(dist, 'libs/dns/src/index.js'));
const { createRedis } = require(path.join(dist, 'libs/queue/src/index.js'));
const { DeliveryAgent } = require(path.join(dist, 'apps/worker/src/delivery/delivery-agent.js'));
const { Queue, Worker } = require('bullmq');

const env = process.env;
const name = env.FAULT_NAME ?? `worker-${process.pid}`;
const queueName = env.FAULT_QUEUE ?? 'fault-delivery';
const sweepMs = Number(env.FAULT_SWEEP_MS ?? 1000);
const log = (event, data = {}) => process.stdout.write(`${JSON.stringify({ name, event, ...data })}\n`);

const config = loadConfig(env);
const prisma = createPrismaClient({
  url: config.DATABASE_URL,
  poolSize: config.DATABASE_POOL_SIZE,
  applicationName: name,
});
const agent = new DeliveryAgent(prisma, config, createNodeResolver(config.DNS_SERVERS, config.DNS_TIMEOUT_MS));
const producerConnection = createRedis(config.REDIS_URL, 'worker');
const workerConnection = createRedis(config.REDIS_URL, 'worker');
for (const c of [producerConnection, workerConnection]) c.on('error', () => undefined);
const queue = new Queue(queueName, { connection: producerConnection, prefix: config.QUEUE_PREFIX });
queue.on('error', () => undefined);

let inFlight = 0;
let processed = 0;
const worker = new Worker(
  queueName,
  async (job) => {
    inFlight++;
    try {
      const result = await agent.deliver(job.data);
      processed++;
      return result ? { delivered: result.delivered, deferred: result.deferred, bounced: result.bounced } : null;
    } finally {
      inFlight--;
    }
  },
  {
    connection: workerConnection,
    prefix: config.QUEUE_PREFIX,
    concurrency: config.WORKER_CONCURRENCY,
    // Jobs a dead worker held stay 'active' until their lock expires and the stalled check hands
    // them back (BullMQ's default is 30 s for both); shorter here so the tests run in seconds.
    lockDuration: Number(env.FAULT_LOCK_MS ?? 30_000),
    stalledInterval: Number(env.FAULT_LOCK_MS ?? 30_000),
  },
);
worker.on('error', (err) => log('worker-error', { message: err.message }));

async function sweepForever() {
  for (;;) {
    try {
      const due = await agent.sweep();
      // The job id is the delivery id: a delivery already waiting in Redis is not added twice.
      await queue.addBulk(
        due.map((d) => ({
          name: 'deliver',
          data: { tenantId: d.tenantId, deliveryId: d.id },
          opts: { jobId: d.id, removeOnComplete: true, removeOnFail: true },
        })),
      );
    } catch (err) {
      log('sweep-error', { message: err instanceof Error ? err.message : String(err) });
    }
    await sleep(sweepMs);
  }
}

// Answers at once while deliveries are in flight: the test measures how responsive the worker is.
const ping = http.createServer((_req, res) => {
  res.setHeader('content-type', 'application/json');
  res.end(JSON.stringify({ name, inFlight, processed, rssBytes: process.memoryUsage().rss }));
});
ping.listen(Number(env.FAULT_PING_PORT ?? 0), '127.0.0.1', () => {
  log('ready', { ping: ping.address().port });
  void sweepForever();
});

process.on('SIGTERM', async () => {
  await worker.close();
  await queue.close();
  producerConnection.disconnect();
  workerConnection.disconnect();
  await prisma.$disconnect();
  process.exit(0);
});
