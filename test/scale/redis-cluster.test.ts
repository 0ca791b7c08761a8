import { randomBytes } from 'node:crypto';
import { Cluster } from 'ioredis';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig, type Config } from '@mailroom/config';
import { RedisCounters } from '@mailroom/access';
import { MaildropLock } from '@mailroom/imap/pop3/maildrop-lock';
import { createRedis, JobName, JobProducer, pingRedis, QueueName, type RedisClient } from '@mailroom/queue';

/**
 * What the apps keep in Redis, on the Redis Cluster of `npm run test:scale`: every Lua script of
 * ours names one key (so it runs on that key's master), and each BullMQ queue keeps all its keys
 * in one slot, or BullMQ's scripts would fail with CROSSSLOT.
 */
describe('the apps on a Redis Cluster (REDIS_CLUSTER_NODES)', () => {
  let config: Config;
  let sut: RedisClient;
  const prefix = `mrscale${randomBytes(4).toString('hex')}`;

  beforeAll(() => {
    config = loadConfig({
      DATABASE_URL: 'postgresql://unused@127.0.0.1:1/unused',
      REDIS_URL: 'redis://127.0.0.1:1',
      REDIS_CLUSTER_NODES: process.env.REDIS_CLUSTER_NODES!,
      QUEUE_PREFIX: prefix,
      MX_HOSTNAME: 'mx.mailroom.test',
      MASTER_KEY: randomBytes(32).toString('hex'),
    });
    sut = createRedis(config, 'worker');
  });
  afterAll(() => sut?.disconnect());

  /** The master port serving each key, from CLUSTER SLOTS. */
  async function mastersOf(keys: string[]): Promise<Set<number>> {
    const cluster = sut as Cluster;
    const slots = await cluster.cluster('SLOTS');
    const ports = new Set<number>();
    for (const key of keys) {
      const slot = Number(await cluster.cluster('KEYSLOT', key));
      ports.add(slots.find(([from, to]) => slot >= from && slot <= to)![2]![1]);
    }
    return ports;
  }

  it('connects as a cluster, not to REDIS_URL, and reports it healthy', async () => {
    expect(config.REDIS_CLUSTER_NODES).toHaveLength(6);
    expect(sut).toBeInstanceOf(Cluster);
    const probe = createRedis(config, 'probe');
    try {
      expect(await pingRedis(probe)).toBe(true);
    } finally {
      probe.disconnect();
    }
  });

  it('counts login failures and sending windows with the Lua counter, on keys spread over the masters', async () => {
    const counters = new RedisCounters(sut, config.QUEUE_PREFIX, pino({ level: 'silent' }));
    const keys = Array.from({ length: 12 }, (_, i) => counters.key('auth-fail-acct', `user${i}@scale.test`));
    for (const key of keys) {
      expect(await counters.hit(key, 60_000)).toBe(1);
      expect(await counters.hit(key, 60_000)).toBe(2);
      expect(await counters.peek(key)).toBe(2);
      expect(await sut.pttl(key)).toBeGreaterThan(50_000);
    }
    // Not a null (fail-open) answer: the counters really ran on three different masters.
    expect((await mastersOf(keys)).size).toBe(3);
    for (const key of keys) await counters.clear(key);
    for (const key of keys) expect(await counters.peek(key)).toBe(0);
  });

  it('holds the POP3 maildrop lock for one session, renews it, and frees it only with its own token', async () => {
    const key = `${prefix}:pop3-lock:${randomBytes(4).toString('hex')}`;
    const lock = await MaildropLock.acquire(sut, key, 300);
    expect(lock).not.toBeNull();
    expect(await MaildropLock.acquire(sut, key, 300)).toBeNull();
    // Renewed every ttl/3 by the Lua script: still held well past its first TTL.
    await new Promise((r) => setTimeout(r, 700));
    expect(lock!.lost).toBe(false);
    expect(await MaildropLock.acquire(sut, key, 300)).toBeNull();
    await lock!.release();
    const next = await MaildropLock.acquire(sut, key, 300);
    expect(next).not.toBeNull();
    await next!.release();
  });

  it('keeps each queue in one slot under a hash-tag prefix, and the queues on different masters', async () => {
    // Each queue's hash tag is its own, so the queues can live on different masters; whether
    // three given tags do is chance (all on one of three masters: 1 in 9). The test takes a prefix
    // whose tags CLUSTER KEYSLOT puts on at least two masters, then checks BullMQ's real keys.
    const tags = (p: string) =>
      [QueueName.Deliveries, QueueName.DeliveryRetries, QueueName.Webhooks].map((q) => `{${p}:${q}}:id`);
    let queuePrefix = config.QUEUE_PREFIX;
    for (let i = 0; (await mastersOf(tags(queuePrefix))).size < 2; i++) {
      expect(i).toBeLessThan(100);
      queuePrefix = `${prefix}q${i}`;
    }
    const producer = new JobProducer(sut, queuePrefix);
    try {
      await producer.add(JobName.DeliverySend, { tenantId: 't', deliveryId: randomBytes(8).toString('hex') });
      await producer.add(JobName.DeliveryRetry, { tenantId: 't', deliveryId: 'd', attempt: 1 }, { delay: 60_000 });
      await producer.add(JobName.WebhookSweep, {});
      const prefixes = [QueueName.Deliveries, QueueName.DeliveryRetries, QueueName.Webhooks].map(
        (q) => producer.queue(q).opts.prefix!,
      );
      expect(prefixes).toEqual([
        `{${queuePrefix}:deliveries}`,
        `{${queuePrefix}:delivery-retries}`,
        `{${queuePrefix}:webhooks}`,
      ]);
      const cluster = sut as Cluster;
      for (const p of prefixes) {
        const keys = (await Promise.all(cluster.nodes('master').map((n) => n.keys(`${p}:*`)))).flat();
        expect(keys.length).toBeGreaterThan(2);
        const slots = new Set(await Promise.all(keys.map((k) => cluster.cluster('KEYSLOT', k))));
        expect(slots.size).toBe(1);
      }
      expect((await mastersOf(prefixes.map((p) => `${p}:id`))).size).toBeGreaterThan(1);
      // BullMQ's multi-key scripts run: the delayed retry is found and promoted.
      const job = await producer.queue(QueueName.DeliveryRetries).getJob('delivery-d-1');
      expect(await job!.getState()).toBe('delayed');
      await producer.addNow(JobName.DeliveryRetry, { tenantId: 't', deliveryId: 'd', attempt: 1 });
      expect(await job!.getState()).toBe('waiting');
      for (const q of [QueueName.Deliveries, QueueName.DeliveryRetries, QueueName.Webhooks]) {
        await producer.queue(q).obliterate({ force: true });
      }
    } finally {
      await producer.close();
    }
  });

  it('keeps a prefix that already holds a hash tag as the operator set it', async () => {
    const producer = new JobProducer(sut, `{${prefix}}`);
    try {
      expect(producer.queue(QueueName.Deliveries).opts.prefix).toBe(`{${prefix}}`);
      expect(producer.queue(QueueName.Webhooks).opts.prefix).toBe(`{${prefix}}`);
    } finally {
      await producer.close();
    }
  });
});
