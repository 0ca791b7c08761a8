import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { printLedger } from '@test/faults/support/ledger';
import {
  destinationZone,
  diagnose,
  queueDeliveries,
  seedDeliveries,
  sendJobsCompleted,
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

const DELIVERIES = 600;
const DOMAINS = 4;
/** Worker A is killed at the first 250 the sink writes to it once it has taken this many messages. */
const KILL_AFTER_RECEIPTS = 150;
/** The sink holds each 250 back up to this long after the final dot: sessions are caught in the window. */
const SINK_REPLY_DELAY_MS = 400;
/** ... and its greeting as long: others are caught before the remote has anything. */
const SINK_GREETING_DELAY_MS = 400;

const TEST_TIMEOUT_MS = 300_000;

describe('fault: a real worker process killed mid-delivery while two run at once', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let sink: Sink;
  let redis: RestartableRedis;
  const workers: WorkerProcess[] = [];
  const prefix = `fault${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(destinationZone(DOMAINS));
    // A port for each worker: the sink's log says which worker sent each message.
    sink = await Sink.start({
      listeners: 2,
      replyDelayMs: SINK_REPLY_DELAY_MS,
      greetingDelayMs: SINK_GREETING_DELAY_MS,
    });
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
      await queueDeliveries(redis.env, prefix, tenantId, ids);
      const [portA, portB] = sink.ports as [number, number];
      const settings = (sinkPort: number) =>
        workerSettings({ redis: redis.env, queuePrefix: prefix, dnsPort: dns.port, sinkPort });
      const [a, b] = (await startAll(
        [startWorker('worker-a', db.url, settings(portA)), startWorker('worker-b', db.url, settings(portB))],
        workers,
      )) as [WorkerProcess, WorkerProcess];

      // kill -9 of A in the same tick as a 250 the sink writes to it: A never reads that reply,
      // so at least one delivery is in the window (the remote has it, PostgreSQL says 'sending').
      const kill = { seq: 0, receipts: 0 };
      sink.onReplied = (r) => {
        if (kill.seq > 0 || r.port !== portA || sink.receipts < KILL_AFTER_RECEIPTS) return;
        a.proc.child.kill('SIGKILL');
        kill.seq = sink.tick();
        kill.receipts = sink.receipts;
      };
      await waitUntil('worker A to be killed', async () => kill.seq > 0, 120_000);
      await a.proc.exited;
      const killedAt = Date.now();

      // B carries on alone. The jobs A held stay 'active' in Redis until BullMQ's stalled check
      // hands them to B; what A had claimed stays 'sending' in PostgreSQL: nobody knows whether
      // the remote took it. Wait until nothing is queued or deferred and Redis holds no send job
      // (so B has nothing in flight either): every row still 'sending' is then one of A's.
      await waitUntil(
        'worker B to drain the queue',
        async () => {
          const s = await statusCounts(db.prisma, tenantId);
          if ((s.queued ?? 0) + (s.deferred ?? 0) > 0) return false;
          return (await sendJobsInRedis(redis.env, prefix)).total === 0;
        },
        180_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${await diagnose(db.prisma, tenantId, sink, [b])}`);
      });
      const drainedAt = Date.now();
      const stuck = await db.prisma.delivery.findMany({ where: { tenantId, status: 'sending' }, select: { id: true } });
      const stuckIds = new Set(stuck.map((d) => d.id));
      // The window PostgreSQL cannot close, from the database and the sink's log: claimed by A
      // and never recorded, yet taken by the remote (final dot, the remote's commit) from A.
      const takenFromA = new Map(sink.on(portA).map((r) => [r.id, r]));
      const window = [...stuckIds].filter((id) => takenFromA.has(id));
      // Of those, the ones whose 250 the sink had written before A died (the rest: the final dot
      // was in, the 250 still held back; a real MTA has committed the message by then too).
      const windowAfter250 = window.filter((id) => {
        const replied = takenFromA.get(id)!.repliedSeq;
        return replied !== null && replied < kill.seq;
      }).length;
      // Nobody but A ever had these: B has not sent any of them yet.
      const stuckSentByB = sink.on(portB).filter((r) => stuckIds.has(r.id)).length;

      // Fifteen minutes later the sweep hands stuck deliveries out again (a fixed window with no
      // setting); the test moves the clock of those rows rather than waiting.
      await db.prisma.$executeRaw`
      UPDATE deliveries SET last_attempt_at = last_attempt_at - interval '16 minutes'
      WHERE tenant_id = ${tenantId}::uuid AND status = 'sending'`;
      await waitUntil(
        'every delivery delivered',
        async () => ((await statusCounts(db.prisma, tenantId)).delivered ?? 0) === DELIVERIES,
        120_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${await diagnose(db.prisma, tenantId, sink, [b])}`);
      });

      const duplicated = sink.duplicated();
      const lost = ids.filter((id) => !sink.counts.has(id)).length;
      const rows = await db.prisma.delivery.findMany({
        where: { tenantId },
        select: { id: true, attempts: true, lastResponse: true },
      });
      const claimedTwice = rows.filter((r) => r.attempts > 1).map((r) => r.id);
      printLedger({
        scenario: 'worker-kill-9',
        sent: DELIVERIES,
        acknowledged: sink.acknowledged(),
        stored: (await statusCounts(db.prisma, tenantId)).delivered ?? 0,
        delivered: sink.counts.size,
        duplicates: sink.duplicates(),
        lost,
        workers: 2,
        receiptsAtKill: kill.receipts,
        stuckInSendingAfterKill: stuckIds.size,
        takenByRemoteBeforeKill: window.length,
        windowAfter250,
        windowBefore250: window.length - windowAfter250,
        resentOnceAfterKill: stuckIds.size - window.length,
        connectionsResetAtSink: sink.connectionErrors,
        sentByA: sink.on(portA).length,
        sentByB: sink.on(portB).length,
        sendJobsCompletedByB: await sendJobsCompleted(b),
        claimedTwice: claimedTwice.length,
        secondsKillToDrained: Math.round((drainedAt - killedAt) / 100) / 10,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      expect(lost).toBe(0);
      expect(sink.counts.size).toBe(DELIVERIES);
      // The kill landed after the remote took a message, and only A ever had the stuck ones.
      expect(window.length).toBeGreaterThan(0);
      expect(stuckSentByB).toBe(0);
      // Duplicates only inside that window: two workers running at once never sent the same
      // delivery twice, and none was claimed twice except the ones A left behind.
      expect(sink.duplicates()).toBeLessThanOrEqual(window.length);
      expect(duplicated.filter((id) => !window.includes(id))).toEqual([]);
      const claimedTwiceElsewhere = rows.filter((r) => r.attempts > 1 && !stuckIds.has(r.id));
      expect(claimedTwiceElsewhere.map((r) => r.lastResponse)).toEqual([]);
      expect(claimedTwice.sort()).toEqual([...stuckIds].sort());
      expect(b.proc.child.exitCode, b.proc.output()).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});
