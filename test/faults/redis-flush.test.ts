import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { printLedger } from '@test/faults/support/ledger';
import { clusterMode, connectRedis, flushRedis } from '@test/support/redis-cluster';
import {
  destinationZone,
  diagnose,
  queueDeliveries,
  seedDeliveries,
  sendJobsInRedis,
  Sink,
  startAll,
  startRestartableRedis,
  startWorker,
  statusCounts,
  waitUntil,
  type RestartableRedis,
  type WorkerProcess,
} from '@test/faults/support/outbound';
import { workerSettings } from '@test/faults/support/worker-settings';

const DELIVERIES = 1_000;
const DOMAINS = 4;
const WORKERS = 2;
/** Redis is flushed and restarted once the sink has taken this many messages. */
const FLUSH_AFTER_RECEIPTS = 150;
const SINK_REPLY_DELAY_MS = 40;

const TEST_TIMEOUT_MS = 240_000;

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
    // One listener per worker (each gets its own SMTP_DELIVERY_PORT): the sink sees who sent what.
    sink = await Sink.start({ listeners: WORKERS, replyDelayMs: SINK_REPLY_DELAY_MS });
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
    'delivers every one exactly once: the sweep of the real workers queues again what Redis lost',
    async () => {
      const started = Date.now();
      const { tenantId, ids } = await seedDeliveries(db.prisma, DELIVERIES, DOMAINS);
      // Queued as the MTA queues them after its commit: one deliveries.send job per delivery.
      await queueDeliveries(redis.env, prefix, tenantId, ids);
      await startAll(
        sink.ports.map((sinkPort, n) =>
          startWorker(
            `worker-${n}`,
            db.url,
            workerSettings({ redis: redis.env, queuePrefix: prefix, dnsPort: dns.port, sinkPort }),
          ),
        ),
        workers,
      );

      await waitUntil('the first receipts', async () => sink.receipts >= FLUSH_AFTER_RECEIPTS, 120_000);
      const inRedis = await sendJobsInRedis(redis.env, prefix);
      const connection = connectRedis(redis.env);
      await flushRedis(connection);
      connection.disconnect();
      await redis.restart();
      const receiptsAtFlush = sink.receipts;
      const flushedAt = Date.now();

      await waitUntil(
        'every delivery delivered',
        async () => ((await statusCounts(db.prisma, tenantId)).delivered ?? 0) === DELIVERIES,
        180_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${await diagnose(db.prisma, tenantId, sink, workers)}`);
      });
      const statuses = await statusCounts(db.prisma, tenantId);
      const lost = ids.filter((id) => !sink.counts.has(id)).length;
      const rows = await db.prisma.delivery.findMany({
        where: { tenantId },
        select: { attempts: true, lastResponse: true },
      });
      const byWorker = sink.ports.map((p) => sink.on(p).length);
      printLedger({
        scenario: 'redis-flush-restart',
        sent: DELIVERIES,
        acknowledged: sink.acknowledged(),
        stored: statuses.delivered ?? 0,
        delivered: sink.counts.size,
        duplicates: sink.duplicates(),
        lost,
        redis: clusterMode() ? 'cluster' : 'single',
        sendJobsInRedisAtFlush: inRedis.total,
        waitingAtFlush: inRedis.waiting,
        activeAtFlush: inRedis.active,
        receiptsAtFlush,
        workers: WORKERS,
        sentByWorker0: byWorker[0]!,
        sentByWorker1: byWorker[1]!,
        attemptsAbove1: rows.filter((r) => r.attempts > 1).length,
        secondsToRecover: Math.round((Date.now() - flushedAt) / 100) / 10,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      // The flush really took queued work away...
      expect(inRedis.waiting).toBeGreaterThan(0);
      // ... and none of it was lost or sent twice: no worker died, so there is no duplicate window.
      expect(lost).toBe(0);
      expect(sink.duplicates()).toBe(0);
      expect(sink.counts.size).toBe(DELIVERIES);
      expect([...sink.counts.keys()].every((id) => ids.includes(id))).toBe(true);
      // Each delivery was claimed once, by one of the two workers, and both did their share.
      expect(rows.filter((r) => r.attempts !== 1).map((r) => r.lastResponse)).toEqual([]);
      for (const n of byWorker) expect(n).toBeGreaterThan(0);
      for (const w of workers) expect(w.proc.child.exitCode, w.proc.output()).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});
