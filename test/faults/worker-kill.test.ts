import { randomBytes } from 'node:crypto';
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

const DELIVERIES = 600;
const DOMAINS = 4;
/** Worker A is killed once the sink has taken this many messages. */
const KILL_AFTER_RECEIPTS = 150;
/** The sink holds each 250 back up to this long after the final dot: sessions are caught in the window. */
const SINK_REPLY_DELAY_MS = 400;
/** ... and its greeting as long: others are caught before the remote has anything. */
const SINK_GREETING_DELAY_MS = 400;

const TEST_TIMEOUT_MS = 180_000;

describe('fault: a delivery worker killed mid-delivery while two run at once', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let sink: Sink;
  let redis: RestartableRedis;
  const workers: WorkerProcess[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(destinationZone(DOMAINS));
    sink = await Sink.start({ replyDelayMs: SINK_REPLY_DELAY_MS, greetingDelayMs: SINK_GREETING_DELAY_MS });
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
    'loses nothing; only deliveries the remote had taken when the worker died are sent twice',
    async () => {
      const started = Date.now();
      const { tenantId, ids } = await seedDeliveries(db.prisma, DELIVERIES, DOMAINS);
      const settings = workerSettings({
        redisUrl: redis.url,
        queuePrefix: `fault${randomBytes(3).toString('hex')}`,
        dnsPort: dns.port,
        sinkPort: sink.port,
      });
      const [a, b] = await Promise.all([
        startWorker('worker-a', db.url, settings),
        startWorker('worker-b', db.url, settings),
      ]);
      workers.push(a!, b!);

      await waitUntil('the first receipts', async () => sink.receipts >= KILL_AFTER_RECEIPTS, 60_000);
      await a!.kill();
      const receivedBeforeKill = new Set(sink.counts.keys());

      // Worker B carries on alone. What A had claimed stays 'sending': nobody knows whether the
      // remote took it. Wait until B has nothing left to do.
      await waitUntil(
        'worker B to drain the queue',
        async () => {
          const s = await statusCounts(db.prisma, tenantId);
          return (s.queued ?? 0) + (s.deferred ?? 0) === 0 && (await b!.ping()).inFlight === 0;
        },
        120_000,
      );
      const stuck = await db.prisma.delivery.findMany({ where: { tenantId, status: 'sending' }, select: { id: true } });
      const stuckIds = new Set(stuck.map((d) => d.id));
      // The window PostgreSQL cannot close: claimed by A, already taken by the remote.
      const window = [...stuckIds].filter((id) => receivedBeforeKill.has(id));

      // Fifteen minutes later the sweeper hands stuck deliveries out again; the test moves the
      // clock of those rows rather than waiting.
      await db.prisma.$executeRaw`
      UPDATE deliveries SET last_attempt_at = last_attempt_at - interval '16 minutes'
      WHERE tenant_id = ${tenantId}::uuid AND status = 'sending'`;
      await waitUntil(
        'every delivery delivered',
        async () => ((await statusCounts(db.prisma, tenantId)).delivered ?? 0) === DELIVERIES,
        60_000,
      );

      const duplicated = [...sink.counts].filter(([, n]) => n > 1).map(([id]) => id);
      const lost = ids.filter((id) => !sink.counts.has(id)).length;
      const rows = await db.prisma.delivery.findMany({ where: { tenantId }, select: { attempts: true } });
      printLedger({
        scenario: 'worker-kill-9',
        sent: DELIVERIES,
        acknowledged: sink.receipts,
        stored: (await statusCounts(db.prisma, tenantId)).delivered ?? 0,
        delivered: sink.counts.size,
        duplicates: sink.duplicates(),
        lost,
        workers: 2,
        stuckInSendingAfterKill: stuckIds.size,
        takenByRemoteBeforeKill: window.length,
        resentOnceAfterKill: stuckIds.size - window.length,
        processedByB: (await b!.ping()).processed,
        attemptsAbove1: rows.filter((r) => r.attempts > 1).length,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      expect(window.length).toBeGreaterThan(0); // the kill did land mid-delivery
      expect(lost).toBe(0);
      expect(sink.counts.size).toBe(DELIVERIES);
      // Duplicates exactly where the worker died after the remote took the message, nowhere else:
      // two workers running at once never sent the same delivery twice.
      expect(duplicated.sort()).toEqual(window.sort());
      expect(sink.duplicates()).toBe(window.length);
    },
    TEST_TIMEOUT_MS,
  );
});
