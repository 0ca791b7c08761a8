import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { randomBytes } from 'node:crypto';
import { Queue } from 'bullmq';
import { Redis } from 'ioredis';
import { loadConfig } from '@mailroom/config';
import { createNodeResolver } from '@mailroom/dns';
import { JobName, JobProducer, QueueName } from '@mailroom/queue';
import { domainHandlers } from '@mailroom/worker/processors/domains.processor';
import { createTestDatabase, type TestDatabase } from '@test/support/database';

describe('periodic DNS re-check (domains.check-due)', () => {
  let db: TestDatabase;
  let redis: Redis;
  const prefix = `mrtest${randomBytes(4).toString('hex')}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = new Redis(process.env.REDIS_URL!, { maxRetriesPerRequest: null });
  });
  afterAll(async () => {
    redis?.disconnect();
    await db?.drop();
  });

  it('queues one check per due domain, skips suspended, deleted and not-yet-due ones, and moves the next check forward', async () => {
    const tenant = await db.prisma.tenant.create({ data: { name: 'T' } });
    const past = new Date(Date.now() - 60_000);
    const make = (name: string, data: Record<string, unknown>) =>
      db.prisma.domain.create({ data: { tenantId: tenant.id, name, unicodeName: name, ownershipToken: 't', ...data } });
    const due = await make('due.example', { status: 'active', nextCheckAt: past });
    await make('later.example', { status: 'active', nextCheckAt: new Date(Date.now() + 3_600_000) });
    await make('suspended.example', { status: 'suspended', nextCheckAt: past });
    await make('deleted.example', { status: 'active', nextCheckAt: past, deletedAt: new Date() });

    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL!,
      MX_HOSTNAME: 'mx.mailroom.test',
      MASTER_KEY: randomBytes(32).toString('hex'),
      DNS_CHECK_INTERVAL_MINUTES: '30',
    });
    const producer = new JobProducer(redis, prefix);
    const sut = domainHandlers(db.prisma, config, createNodeResolver([{ host: '127.0.0.1', port: 9 }], 100), producer);
    const result = await sut[JobName.DomainCheckDue]({}, {} as never);
    expect(result).toEqual({ queued: 1 });
    const queue = new Queue(QueueName.Domains, { connection: redis, prefix });
    const job = await queue.getJob(`domain-check-${due.id}`);
    expect(job?.data).toEqual({ tenantId: tenant.id, domainId: due.id });
    const row = await db.prisma.domain.findFirstOrThrow({ where: { id: due.id } });
    expect(row.nextCheckAt!.getTime()).toBeGreaterThan(Date.now() + 29 * 60_000);
    // Run again at once: nothing is due any more.
    expect(await sut[JobName.DomainCheckDue]({}, {} as never)).toEqual({ queued: 0 });
    await queue.obliterate({ force: true });
    await queue.close();
    await producer.close();
  });
});
