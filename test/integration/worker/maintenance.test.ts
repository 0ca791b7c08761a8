import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents } from 'bullmq';
import { Redis } from 'ioredis';
import { JobName, QueueName } from '@mailroom/queue';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { APP_ENTRY, appEnv, freePort, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';
import { addMessages, expectExactQuota, seedTenant } from '@test/support/worker-fixtures';

/** The built worker process: retention over BullMQ, killed mid-run and restarted; /metrics. */
describe('retention in the worker process', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  let connection: Redis;
  let queue: Queue;
  const workers: RunningProcess[] = [];

  const start = async () => {
    const port = String(await freePort());
    const w = runNode(APP_ENTRY.worker, [], { ...env, WORKER_HEALTH_PORT: port });
    workers.push(w);
    await waitForHttp(`http://127.0.0.1:${port}/health`, w, 30_000, 200);
    return { w, port };
  };

  beforeAll(async () => {
    db = await createTestDatabase();
    env = await appEnv(db.url, { SCHEDULES_ENABLED: 'false' });
    connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
    queue = new Queue(QueueName.Retention, { connection, prefix: env.QUEUE_PREFIX });
  });
  afterAll(async () => {
    for (const w of workers) await w.stop();
    await queue?.obliterate({ force: true }).catch(() => undefined);
    await queue?.close();
    connection?.disconnect();
    await db?.drop();
  });

  it('a run killed with SIGKILL mid-way and run again ends with every old message deleted once and exact quotas', async () => {
    const t = await seedTenant(db.prisma, 10);
    for (const box of t.boxes) {
      await addMessages(db.prisma, t, box.id, box.trash, 6_000, 40, 10);
      await addMessages(db.prisma, t, box.id, box.trash, 10, 1, 10);
    }
    const total = 10 * 6_000;
    const first = await start();
    await queue.add(JobName.RetentionRun, {});
    // Kill the worker once some batches committed and before the run is done.
    for (;;) {
      const left = await db.prisma.message.count({ where: { tenantId: t.tenantId } });
      if (left < 10 * 6_010 - 2_000) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    first.w.child.kill('SIGKILL');
    await first.w.exited;
    const afterKill = await db.prisma.message.count({ where: { tenantId: t.tenantId } });
    expect(afterKill).toBeGreaterThan(100); // killed mid-run
    await expectExactQuota(db.prisma, t.tenantId);

    const second = await start();
    const events = new QueueEvents(QueueName.Retention, {
      connection: connection.duplicate(),
      prefix: env.QUEUE_PREFIX,
    });
    await events.waitUntilReady();
    const job = await queue.add(JobName.RetentionRun, {});
    await job.waitUntilFinished(events, 60_000);
    await events.close();

    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId } })).toBe(100);
    await expectExactQuota(db.prisma, t.tenantId);
    const audits = await db.prisma.auditLog.findMany({ where: { tenantId: t.tenantId, action: 'retention.purge' } });
    expect(audits.reduce((sum, a) => sum + Number((a.after as { messages: number }).messages), 0)).toBe(total);
    const metrics = await (await fetch(`http://127.0.0.1:${second.port}/metrics`)).text();
    expect(metrics).toMatch(
      /mailroom_maintenance_rows_deleted_total\{job="retention.run",table="messages",app="worker"\} \d+/,
    );
    expect(metrics).toMatch(/mailroom_maintenance_bytes_freed_total\{job="retention.run",app="worker"\} \d+/);
    expect(metrics).toMatch(/mailroom_maintenance_rows_examined_total\{job="retention.run",app="worker"\} \d+/);
    expect(metrics).toMatch(/mailroom_maintenance_duration_seconds_total\{job="retention.run",app="worker"\} [\d.e-]+/);
  });
});
