import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queue, QueueEvents, Worker } from 'bullmq';
import { Redis } from 'ioredis';
import { JobName, QueueName } from '@mailroom/queue';
import { assertEveryJobHandled } from '@mailroom/worker/worker';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { APP_ENTRY, appEnv, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';

/** The maintenance queue under `prefix`, with its events, as a producer and an observer see it. */
async function maintenanceQueue(prefix: string | undefined) {
  const connection = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  const queue = new Queue(QueueName.Maintenance, { connection, prefix });
  const events = new QueueEvents(QueueName.Maintenance, { connection: connection.duplicate(), prefix });
  await events.waitUntilReady();
  const close = async () => {
    await events.close();
    await queue.close();
    connection.disconnect();
  };
  return { connection, queue, events, close };
}

describe('worker start-up', () => {
  it('refuses to start when a job name has no handler', () => {
    expect(() => assertEveryJobHandled({})).toThrow(`no handler for job(s): ${Object.values(JobName).join(', ')}`);
    const all = Object.fromEntries(Object.values(JobName).map((name) => [name, async () => ({})]));
    expect(() => assertEveryJobHandled(all)).not.toThrow();
    const allButOne = { ...all };
    delete allButOne[JobName.CleanupExpired];
    expect(() => assertEveryJobHandled(allButOne)).toThrow(`no handler for job(s): ${JobName.CleanupExpired}`);
  });
});

describe(JobName.CleanupExpired, () => {
  let db: TestDatabase;
  let worker: RunningProcess;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = await appEnv(db.url, { SCHEDULES_ENABLED: 'false' });
    worker = runNode(APP_ENTRY.worker, [], env);
    await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);
  });
  afterAll(async () => {
    await worker?.stop();
    await db?.drop();
  });

  it('deletes expired refresh tokens, idempotency keys and greylist entries, and keeps live ones', async () => {
    const past = new Date(Date.now() - 60_000);
    const future = new Date(Date.now() + 3_600_000);
    const admin = await db.prisma.adminUser.create({
      data: { email: 'a@example.com', passwordHash: 'x', role: 'platform_admin' },
    });
    const family = '11111111-1111-4111-8111-111111111111';
    await db.prisma.refreshToken.createMany({
      data: [
        { userId: admin.id, familyId: family, tokenHash: 'old', expiresAt: past },
        { userId: admin.id, familyId: family, tokenHash: 'live', expiresAt: future },
      ],
    });
    await db.prisma.idempotencyKey.createMany({
      data: [
        { scope: 's', key: 'old', method: 'POST', path: '/x', requestHash: 'h', expiresAt: past },
        { scope: 's', key: 'live', method: 'POST', path: '/x', requestHash: 'h', expiresAt: future },
      ],
    });
    await db.prisma.greylistEntry.createMany({
      data: [
        { key: 'old', expiresAt: past },
        { key: 'live', expiresAt: future },
      ],
    });

    const { queue, events, close } = await maintenanceQueue(env.QUEUE_PREFIX);
    const job = await queue.add(JobName.CleanupExpired, {});
    const result = await job.waitUntilFinished(events, 30_000);
    await close();

    expect(result).toEqual({ refreshTokens: 1, idempotencyKeys: 1, greylist: 1 });
    expect((await db.prisma.refreshToken.findMany()).map((t) => t.tokenHash)).toEqual(['live']);
    expect((await db.prisma.idempotencyKey.findMany()).map((k) => k.key)).toEqual(['live']);
    expect((await db.prisma.greylistEntry.findMany()).map((g) => g.key)).toEqual(['live']);
    const metrics = await (await fetch(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/metrics`)).text();
    expect(metrics).toMatch(
      /mailroom_jobs_total\{job="maintenance.cleanup-expired",outcome="completed",app="worker"\} 1/,
    );
  });
});

describe('WORKER_LOCK_MS', () => {
  let db: TestDatabase;
  let worker: RunningProcess | undefined;

  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await worker?.stop();
    await db?.drop();
  });

  it('runs again, within about twice the lock, a job whose worker vanished while holding it', async () => {
    const LOCK_MS = 5_000;
    const env = await appEnv(db.url, { SCHEDULES_ENABLED: 'false', WORKER_LOCK_MS: String(LOCK_MS) });
    const { connection, queue, events, close } = await maintenanceQueue(env.QUEUE_PREFIX);
    const job = await queue.add(JobName.CleanupExpired, {});
    // A worker with the same setting takes the job, then is gone (never renews, never answers):
    // as a killed process, or one whose fetch's answer a Redis failover lost.
    const gone = new Worker(QueueName.Maintenance, null, {
      connection: connection.duplicate(),
      prefix: env.QUEUE_PREFIX,
      autorun: false,
      lockDuration: LOCK_MS,
    });
    const taken = await gone.getNextJob('vanished-worker');
    expect(taken?.id).toBe(job.id);
    await gone.disconnect();
    expect(await queue.getJobState(job.id!)).toBe('active');

    worker = runNode(APP_ENTRY.worker, [], env);
    await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);
    // Counted from the worker being up: its first stalled check marks the job, the next (5 s
    // later) finds the lock gone. BullMQ's default would run that next check 30 s later.
    const startedAt = Date.now();
    const result = await job.waitUntilFinished(events, 25_000);
    const seconds = (Date.now() - startedAt) / 1000;
    await queue.obliterate({ force: true });
    await close();

    expect(result).toEqual({ refreshTokens: 0, idempotencyKeys: 0, greylist: 0 });
    expect(seconds).toBeLessThan(20);
  });
});
