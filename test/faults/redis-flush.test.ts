import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import IORedis from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '../../libs/dns/src/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { printLedger } from './support/ledger';
import {
  destinationZone,
  seedDeliveries,
  Sink,
  startRestartableRedis,
  startWorker,
  statusCounts,
  waitUntil,
  type RestartableRedis,
  type WorkerProcess,
} from './support/outbound';
import { workerSettings } from './support/worker-settings';

const DELIVERIES = 1_000;
const DOMAINS = 4;
const WORKERS = 2;
/** Redis is flushed and restarted once the sink has taken this many messages. */
const FLUSH_AFTER_RECEIPTS = 150;
const SINK_REPLY_DELAY_MS = 40;

const TEST_TIMEOUT_MS = 180_000;

describe(`fault: Redis flushed and restarted with ${DELIVERIES} outbound deliveries queued`, () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let sink: Sink;
  let redis: RestartableRedis;
  const workers: WorkerProcess[] = [];
  const prefix = `fault${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(destinationZone(DOMAINS));
    sink = await Sink.start({ replyDelayMs: SINK_REPLY_DELAY_MS });
    redis = await startRestartableRedis();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await redis?.stop();
    await sink?.close();
    await dns?.close();
    await db?.drop();
  });

  it(
    'delivers every one exactly once: the sweeper queues again what Redis lost',
    async () => {
      const started = Date.now();
      const { tenantId, ids } = await seedDeliveries(db.prisma, DELIVERIES, DOMAINS);
      const settings = workerSettings({
        redisUrl: redis.url,
        queuePrefix: prefix,
        dnsPort: dns.port,
        sinkPort: sink.port,
      });
      for (let n = 0; n < WORKERS; n++) workers.push(await startWorker(`worker-${n}`, db.url, settings));

      await waitUntil('the first receipts', async () => sink.receipts >= FLUSH_AFTER_RECEIPTS, 60_000);
      const connection = new IORedis(redis.url, { maxRetriesPerRequest: null });
      const queue = new Queue('fault-delivery', { connection, prefix });
      const inRedis = await queue.getJobCounts('wait', 'active', 'delayed', 'prioritized');
      await connection.flushall();
      await queue.close();
      connection.disconnect();
      await redis.restart();
      const receiptsAtFlush = sink.receipts;
      const flushedAt = Date.now();

      await waitUntil(
        'every delivery delivered',
        async () => ((await statusCounts(db.prisma, tenantId)).delivered ?? 0) === DELIVERIES,
        120_000,
      );
      const statuses = await statusCounts(db.prisma, tenantId);
      const lost = ids.filter((id) => !sink.counts.has(id)).length;
      printLedger({
        scenario: 'redis-flush-restart',
        sent: DELIVERIES,
        acknowledged: sink.receipts,
        stored: statuses.delivered ?? 0,
        delivered: sink.counts.size,
        duplicates: sink.duplicates(),
        lost,
        jobsInRedisAtFlush:
          (inRedis.wait ?? 0) + (inRedis.active ?? 0) + (inRedis.delayed ?? 0) + (inRedis.prioritized ?? 0),
        receiptsAtFlush,
        workers: WORKERS,
        secondsToRecover: Math.round((Date.now() - flushedAt) / 100) / 10,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      // The flush really took queued work away...
      expect((inRedis.wait ?? 0) + (inRedis.prioritized ?? 0)).toBeGreaterThan(0);
      // ... and none of it was lost or sent twice: no worker died, so there is no duplicate window.
      expect(lost).toBe(0);
      expect(sink.duplicates()).toBe(0);
      expect(sink.counts.size).toBe(DELIVERIES);
      expect([...sink.counts.keys()].every((id) => ids.includes(id))).toBe(true);
    },
    TEST_TIMEOUT_MS,
  );
});
