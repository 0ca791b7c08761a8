import { randomBytes } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { BadRemote } from '@test/faults/support/bad-remote';
import { printLedger } from '@test/faults/support/ledger';
import {
  queueDeliveries,
  seedDeliveries,
  startRestartableRedis,
  startWorker,
  statusCounts,
  waitUntil,
  type RestartableRedis,
  type WorkerProcess,
} from '@test/faults/support/outbound';
import { workerSettings } from '@test/faults/support/worker-settings';

/** Per misbehaving kind; the good ones must all go through while the bad sessions hang. */
const BAD_EACH = 3;
const GOOD = 20;
const SOCKET_TIMEOUT_MS = 3_000;
const SESSION_TIMEOUT_MS = 10_000;
/**
 * How long one GET /health may take before it counts as unanswered: generous, so a busy CI
 * machine does not fail the test; a worker whose event loop is stuck in a reply never answers.
 */
const HEALTH_TIMEOUT_MS = 10_000;
/** VmRSS the worker may gain while swallowing endless replies (nodemailer caps each reply). */
const MAX_RSS_GROWTH_BYTES = 400e6;
const TEST_TIMEOUT_MS = 180_000;

const KINDS = ['drip', 'reset', 'endless'] as const;
const domainOf = (i: number) =>
  i < KINDS.length * BAD_EACH ? `${KINDS[Math.floor(i / BAD_EACH)]}.example` : 'good.example';

describe('fault: remote MX hosts that drip, reset after the final dot, or never end a reply', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let remote: BadRemote;
  let redis: RestartableRedis;
  let worker: WorkerProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
    remote = await BadRemote.start();
    dns = await LocalDnsServer.start(
      [
        'remote.test. 60 IN A 127.0.0.1',
        ...[...KINDS, 'good'].map((k) => `${k}.example. 60 IN MX 10 remote.test.`),
      ].join('\n'),
    );
    redis = await startRestartableRedis();
  });
  afterAll(async () => {
    await worker?.stop();
    await redis?.stop();
    await remote?.close();
    await dns?.close();
    await db?.drop();
  });

  it(
    'defers the bad deliveries after the session deadline while good mail flows and the worker answers',
    async () => {
      const started = Date.now();
      const total = KINDS.length * BAD_EACH + GOOD;
      const { tenantId, ids } = await seedDeliveries(db.prisma, total, 1, domainOf);
      const prefix = `fault${randomBytes(3).toString('hex')}`;
      worker = await startWorker(
        'worker',
        db.url,
        workerSettings({
          redis: redis.env,
          queuePrefix: prefix,
          dnsPort: dns.port,
          sinkPort: remote.port,
          extra: {
            DELIVERY_CONNECT_TIMEOUT_MS: '2000',
            DELIVERY_SOCKET_TIMEOUT_MS: String(SOCKET_TIMEOUT_MS),
            DELIVERY_SESSION_TIMEOUT_MS: String(SESSION_TIMEOUT_MS),
            // A deferred delivery stays deferred for the rest of the test.
            DELIVERY_RETRY_SCHEDULE: '10m',
          },
        }),
      );
      const w = worker;
      const rssStart = w.rssBytes();
      // A scrape resets prom-client's event-loop delay histogram: the max read at the end is this test's.
      await w.metric('nodejs_eventloop_lag_max_seconds');
      // The bad ones first, as they would sit at the head of a real queue.
      await queueDeliveries(redis.env, prefix, tenantId, ids);

      let health = { answered: 0, failed: 0, answeredWhileHung: 0, maxMs: 0 };
      let maxRss = rssStart;
      let maxHung = 0;
      await waitUntil(
        'every delivery decided',
        async () => {
          const hung = remote.hung();
          maxHung = Math.max(maxHung, hung);
          const h = await w.health(HEALTH_TIMEOUT_MS);
          if (h.status === 200) {
            health = {
              ...health,
              answered: health.answered + 1,
              answeredWhileHung: health.answeredWhileHung + (hung > 0 && remote.hung() > 0 ? 1 : 0),
              maxMs: Math.max(health.maxMs, h.ms),
            };
          } else health = { ...health, failed: health.failed + 1 };
          maxRss = Math.max(maxRss, w.rssBytes());
          const s = await statusCounts(db.prisma, tenantId);
          return (s.queued ?? 0) + (s.sending ?? 0) === 0;
        },
        120_000,
      );
      // The remote has let go of every session (the worker closed them all).
      await waitUntil('the hung sessions to close', async () => remote.hung() === 0, 30_000);
      await sleep(200);
      maxRss = Math.max(maxRss, w.rssBytes());
      const loopLagMaxMs = Math.round((await w.metric('nodejs_eventloop_lag_max_seconds')) * 1000);

      const rows = await db.prisma.delivery.findMany({
        where: { tenantId },
        select: { recipientDomain: true, status: true, lastResponse: true, updatedAt: true },
      });
      const of = (domain: string) => rows.filter((r) => r.recipientDomain === domain);
      const good = of('good.example');
      const lastGood = Math.max(...good.map((r) => r.updatedAt.getTime()));
      const firstHungDecided = Math.min(...of('drip.example').map((r) => r.updatedAt.getTime()));
      const deferred = rows.filter((r) => r.status === 'deferred').length;
      printLedger({
        scenario: 'bad-remote-mx',
        sent: total,
        acknowledged: remote.received.good,
        stored: rows.filter((r) => r.status === 'delivered').length,
        delivered: remote.received.good,
        duplicates: 0,
        lost: rows.filter((r) => r.status === 'bounced').length,
        deferred,
        deferredDrip: of('drip.example').filter((r) => r.status === 'deferred').length,
        deferredReset: of('reset.example').filter((r) => r.status === 'deferred').length,
        deferredEndless: of('endless.example').filter((r) => r.status === 'deferred').length,
        resetRemoteHadMessage: remote.received['reset-after-dot'],
        endlessMBSwallowed: Math.round(remote.endlessBytes / 1e5) / 10,
        maxHungSessions: maxHung,
        healthAnswered: health.answered,
        healthAnsweredWhileHung: health.answeredWhileHung,
        healthFailed: health.failed,
        healthMaxMs: health.maxMs,
        eventLoopLagMaxMs: loopLagMaxMs,
        rssStartMB: Math.round(rssStart / 1e6),
        rssMaxMB: Math.round(maxRss / 1e6),
        goodDoneBeforeDripDecidedMs: firstHungDecided - lastGood,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      for (const r of good) expect(r.status).toBe('delivered');
      expect(deferred).toBe(KINDS.length * BAD_EACH);
      for (const r of of('drip.example')) expect(r.lastResponse).toMatch(/session took longer than|timed? ?out/i);
      // nodemailer caps a reply's size (EPROTOCOL); the session deadline would end it otherwise.
      for (const r of of('endless.example')) {
        expect(r.lastResponse).toMatch(/exceeds maximum allowed size|session took longer than/i);
      }
      for (const r of of('reset.example')) expect(r.status).toBe('deferred');
      // The hung sessions held none of the good mail back...
      expect(lastGood).toBeLessThan(firstHungDecided);
      // ... and the process answered its health endpoint every time, also while they hung.
      expect(health.failed).toBe(0);
      expect(health.answeredWhileHung).toBeGreaterThan(0);
      expect(maxRss - rssStart).toBeLessThan(MAX_RSS_GROWTH_BYTES);
      expect(w.proc.child.exitCode, w.proc.output()).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});
