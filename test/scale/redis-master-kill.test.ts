import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { Queue } from 'bullmq';
import { bullPrefix, jobIdFor, JobName, QueueName } from '@mailroom/queue';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { connectRedis, startRedisCluster, type TestRedisCluster } from '@test/support/redis-cluster';
import { printLedger } from '@test/faults/support/ledger';
import {
  destinationZone,
  diagnose,
  queueDeliveries,
  seedDeliveries,
  sendJobsInRedis,
  Sink,
  startAll,
  startWorker,
  statusCounts,
  waitUntil,
  type WorkerProcess,
} from '@test/faults/support/outbound';
import { workerSettings } from '@test/faults/support/worker-settings';

const DELIVERIES = 1_000;
const DOMAINS = 4;
const WORKERS = 2;
/** The master of the deliveries queue is killed once the sink has taken this many messages. */
const KILL_AFTER_RECEIPTS = 150;
const SINK_REPLY_DELAY_MS = 40;

/**
 * Above the sum of the waits below (120 + 30 + 30 + 180 s) and the workers' start (up to 60 s
 * each, in parallel), with room for seeding and the diagnosis: a run that stalls fails in its
 * own wait, saying what it was waiting for, not in Vitest's bare timeout.
 */
const TEST_TIMEOUT_MS = 480_000;

/**
 * Issue #17: a Redis Cluster master killed (kill -9, no persistence) while two real worker
 * processes deliver a backlog. Its replica takes over after cluster-node-timeout; what the dead
 * master had not yet copied to the replica is gone, and the sweep queues it again from PostgreSQL.
 */
describe(`scale: the Redis Cluster master of the deliveries queue killed with ${DELIVERIES} deliveries queued`, () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let sink: Sink;
  let cluster: TestRedisCluster;
  const workers: WorkerProcess[] = [];
  const prefix = `scale${randomBytes(3).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(destinationZone(DOMAINS));
    sink = await Sink.start({ listeners: WORKERS, replyDelayMs: SINK_REPLY_DELAY_MS });
    // A private cluster: the shared one of `npm run test:scale` keeps its masters.
    cluster = await startRedisCluster();
  });
  afterAll(async () => {
    await Promise.all(workers.map((w) => w.stop()));
    await cluster?.stop();
    await sink?.close();
    await dns?.close();
    await db?.drop();
  });

  it(
    'delivers every one exactly once: the replica takes over and the sweep queues again what was lost',
    async () => {
      const started = Date.now();
      const { tenantId, ids } = await seedDeliveries(db.prisma, DELIVERIES, DOMAINS);
      await queueDeliveries(cluster.env, prefix, tenantId, ids);
      await startAll(
        sink.ports.map((sinkPort, n) =>
          startWorker(
            `worker-${n}`,
            db.url,
            workerSettings({ redis: cluster.env, queuePrefix: prefix, dnsPort: dns.port, sinkPort }),
          ),
        ),
        workers,
      );
      // The queue's keys share one slot (hash tag {prefix:deliveries}): find its master.
      const queueKey = `{${prefix}:${QueueName.Deliveries}}:${QueueName.Deliveries}:id`;
      const victim = await cluster.masterOf(queueKey);

      await waitUntil('the first receipts', async () => sink.receipts >= KILL_AFTER_RECEIPTS, 120_000);
      // The premise of the drill: the victim has a replica that holds its data. (One that never
      // finished its first sync refuses to take over; scripts/redis-cluster.sh up waits for it.)
      await waitUntil(
        `a replica of ${victim} in sync`,
        async () => (await cluster.replicaOf(victim))?.inSync === true,
        30_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}:\n${await cluster.status()}`);
      });
      const inRedis = await sendJobsInRedis(cluster.env, prefix);
      await cluster.kill(victim);
      const receiptsAtKill = sink.receipts;
      const killedAt = Date.now();

      await waitUntil(
        'a replica to take over the queue',
        async () => (await cluster.masterOf(queueKey).catch(() => victim)) !== victim,
        30_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}:\n${await cluster.status()}`);
      });
      const failoverSeconds = (Date.now() - killedAt) / 1000;
      const promoted = await cluster.masterOf(queueKey);
      // What the new master holds of the queue, against what PostgreSQL still has to deliver.
      const afterFailover = await sendJobsInRedis(cluster.env, prefix);
      const open = await db.prisma.delivery.findMany({
        where: { tenantId, status: { not: 'delivered' } },
        select: { id: true },
      });
      const jobs = await sendJobIds(cluster.env, prefix);
      // Deliveries not done whose job the new master does not hold: only the sweep brings them back.
      const openWithoutJob = open.filter(
        (d) => !jobs.has(jobIdFor(JobName.DeliverySend, { tenantId, deliveryId: d.id })!),
      );

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
        scenario: 'redis-cluster-master-kill',
        sent: DELIVERIES,
        acknowledged: sink.acknowledged(),
        stored: statuses.delivered ?? 0,
        delivered: sink.counts.size,
        duplicates: sink.duplicates(),
        lost,
        killedMaster: victim,
        promotedMaster: promoted,
        sendJobsInRedisAtKill: inRedis.total,
        receiptsAtKill,
        sendJobsInRedisAfterFailover: afterFailover.total,
        openInPostgresAfterFailover: open.length,
        openWithoutJobAfterFailover: openWithoutJob.length,
        workers: WORKERS,
        sentByWorker0: byWorker[0]!,
        sentByWorker1: byWorker[1]!,
        attemptsAbove1: rows.filter((r) => r.attempts > 1).length,
        secondsToFailover: Math.round(failoverSeconds * 10) / 10,
        secondsToRecover: Math.round((Date.now() - killedAt) / 100) / 10,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      // The kill took the queue's master while most of the backlog still waited there...
      expect(inRedis.waiting).toBeGreaterThan(0);
      expect(promoted).not.toBe(victim);
      expect(cluster.ports).toContain(promoted);
      // ... and nothing was lost or sent twice: no worker died, and every claim is a
      // compare-and-set in PostgreSQL, so a job run again after the failover finds its row taken.
      expect(lost).toBe(0);
      expect(sink.duplicates()).toBe(0);
      expect(sink.counts.size).toBe(DELIVERIES);
      expect([...sink.counts.keys()].every((id) => ids.includes(id))).toBe(true);
      expect(rows.filter((r) => r.attempts !== 1).map((r) => r.lastResponse)).toEqual([]);
      for (const n of byWorker) expect(n).toBeGreaterThan(0);
      for (const w of workers) expect(w.proc.child.exitCode, w.proc.output()).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});

/** Ids of the deliveries queue's jobs in any state but finished. */
async function sendJobIds(redis: Record<string, string>, queuePrefix: string): Promise<Set<string>> {
  const connection = connectRedis(redis);
  const queue = new Queue(QueueName.Deliveries, {
    connection,
    prefix: bullPrefix(queuePrefix, connection, QueueName.Deliveries),
  });
  try {
    const jobs = await queue.getJobs(['wait', 'prioritized', 'active', 'delayed']);
    return new Set(jobs.filter((j) => j?.id).map((j) => j.id!));
  } finally {
    await queue.close();
    connection.disconnect();
  }
}
