import { execFileSync } from 'node:child_process';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { JobName, JobProducer } from '@mailroom/queue';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { queueOutboundRows } from '@test/support/outbound-rows';
import { connectRedis, flushRedis } from '@test/support/redis-cluster';
import {
  APP_ENTRY,
  appEnv,
  freePort,
  runNode,
  startRedis,
  waitForHttp,
  type RunningProcess,
  type TestRedis,
} from '@test/support/processes';

const MESSAGES = 6;
const RECIPIENTS_PER_MESSAGE = 5;

/**
 * The real worker process delivering a backlog through BullMQ to a sink, with its Redis
 * flushed part-way: PostgreSQL holds the truth, so the sweep queues again what Redis lost and
 * every recipient gets each message exactly once. Once as one process, once as a primary with
 * two worker processes (WORKER_PROCESSES=2) taking jobs from the same queues.
 */
describe.each([1, 2])(
  'outbound delivery through the worker (%i process(es)), with Redis flushed mid-queue',
  (processes) => {
    let db: TestDatabase;
    let dns: LocalDnsServer;
    let redis: TestRedis;
    let worker: RunningProcess;
    let sink: SMTPServer;
    const received = new Map<string, number>(); // "<message-id> <recipient>" -> times
    let env: Record<string, string>;

    beforeAll(async () => {
      db = await createTestDatabase();
      dns = await LocalDnsServer.start(
        'dest.example. 60 IN MX 10 sink.dest.example.\nsink.dest.example. 60 IN A 127.0.0.1\n',
      );
      redis = await startRedis();
      sink = new SMTPServer({
        authOptional: true,
        disabledCommands: ['STARTTLS'],
        logger: false,
        onData(stream, session, callback) {
          let raw = '';
          stream.on('data', (c: Buffer) => (raw += c.toString()));
          stream.on('end', () => {
            const id = /^Message-ID: (.+)$/im.exec(raw)?.[1]?.trim() ?? '?';
            for (const r of session.envelope.rcptTo) {
              const key = `${id} ${r.address}`;
              received.set(key, (received.get(key) ?? 0) + 1);
            }
            // Slow enough that the flush lands while most of the backlog still waits.
            setTimeout(() => callback(), 150);
          });
        },
      });
      const sinkPort = await freePort();
      await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
      env = await appEnv(db.url, {
        ...redis.env,
        DNS_SERVERS: `127.0.0.1:${dns.port}`,
        SMTP_DELIVERY_PORT: String(sinkPort),
        SWEEP_INTERVAL_MS: '1000',
        SCHEDULER_REFRESH_MS: '1000',
        WORKER_CONCURRENCY: '2',
        DELIVERY_CONCURRENCY_PER_DOMAIN: '1',
        WORKER_PROCESSES: String(processes),
      });
    });

    afterAll(async () => {
      await worker?.stop();
      await new Promise<void>((resolve) => sink.close(() => resolve()));
      await redis?.stop();
      await dns?.close();
      await db?.drop();
    });

    it('delivers every message to every recipient exactly once', async () => {
      const tenant = await db.prisma.tenant.create({ data: { name: 'Bulk Sender' } });
      const deliveries: { tenantId: string; deliveryId: string }[] = [];
      for (let m = 0; m < MESSAGES; m++) {
        const raw = Buffer.from(
          `From: news@sender.example\r\nSubject: Issue ${m}\r\nMessage-ID: <issue-${m}@sender.example>\r\n\r\nbody ${m}\r\n`,
        );
        // All recipients share one domain: the worker sends each message in one SMTP transaction.
        const ids = await queueOutboundRows(db.prisma, {
          tenantId: tenant.id,
          raw,
          envelopeFrom: 'news@sender.example',
          recipients: Array.from({ length: RECIPIENTS_PER_MESSAGE }, (_, r) => `reader${r}@dest.example`),
        });
        deliveries.push(...ids.map((deliveryId) => ({ tenantId: tenant.id, deliveryId })));
      }
      // Queue everything, as submission would, then start the worker.
      const producerRedis = connectRedis(redis.env);
      const producer = new JobProducer(producerRedis, env.QUEUE_PREFIX!);
      for (const d of deliveries) await producer.add(JobName.DeliverySend, d);
      worker = runNode(APP_ENTRY.worker, [], env);

      // Flush Redis once the first copies arrive: queued jobs and schedulers are gone. (Not
      // after /health answers: a primary answers once all its workers run, and they may
      // have taken most of the backlog by then.)
      const deadlineFirst = Date.now() + 30_000;
      while (received.size === 0 && Date.now() < deadlineFirst) await sleep(20);
      expect(received.size).toBeGreaterThan(0);
      await flushRedis(producerRedis);
      const deliveredBeforeFlush = await db.prisma.delivery.count({ where: { status: 'delivered' } });
      expect(deliveredBeforeFlush).toBeLessThan(deliveries.length);

      const deadline = Date.now() + 90_000;
      let delivered = 0;
      while (Date.now() < deadline) {
        delivered = await db.prisma.delivery.count({ where: { status: 'delivered' } });
        if (delivered === deliveries.length) break;
        await sleep(250);
      }
      await producer.close();
      producerRedis.disconnect();
      expect(delivered, worker.output()).toBe(deliveries.length);
      await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);
      const expected = MESSAGES * RECIPIENTS_PER_MESSAGE;
      expect(received.size).toBe(expected);
      expect([...received.values()].every((n) => n === 1)).toBe(true);
      const metrics = await (await fetch(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/metrics`)).text();
      expect(metrics).toMatch(/mailroom_jobs_total\{job="deliveries.sweep",outcome="completed",app="worker"\} \d+/);
      // Every delivery job counted once, whichever process ran it (the primary sums its workers').
      const sends = [
        ...metrics.matchAll(/mailroom_jobs_total\{job="deliveries.send",outcome="completed",app="worker"\} (\d+)/g),
      ];
      expect(sends.map((m) => Number(m[1]))).toEqual([expect.any(Number)]);
      const health = (await (await fetch(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`)).json()) as {
        status: string;
        details: Record<string, { status: string }>;
      };
      expect(health.status).toBe('ok');
      expect(health.details).toMatchObject({ database: { status: 'up' }, redis: { status: 'up' } });
      if (processes > 1) expect(health.details.workers).toEqual({ status: 'up' });
    });

    if (processes > 1) {
      it('starts another worker process when one dies, and stops them all on SIGTERM', async () => {
        const children = () =>
          execFileSync('pgrep', ['-P', String(worker.child.pid)], { encoding: 'utf8' })
            .trim()
            .split('\n')
            .filter(Boolean);
        const before = children();
        expect(before).toHaveLength(2);
        process.kill(Number(before[0]), 'SIGKILL');
        await expect.poll(() => children().filter((pid) => !before.includes(pid)).length, { timeout: 15_000 }).toBe(1);
        expect(children()).toHaveLength(2);
        await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);
        const health = (await (await fetch(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`)).json()) as {
          details: Record<string, { status: string }>;
        };
        expect(health.details.workers).toEqual({ status: 'up' });
        worker.child.kill('SIGTERM');
        expect(await worker.exited).toBe(0);
        // No worker process is left behind.
        expect(() => execFileSync('pgrep', ['-P', String(worker.child.pid)])).toThrow();
      });
    }
  },
);

/**
 * A 4xx comes back at its next attempt as a delayed job of its own: the sweep (here every hour)
 * is only the net for what Redis lost, and a sweep queued behind a backlog ran late.
 */
describe('outbound retries through the worker', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let worker: RunningProcess | undefined;
  let sink: SMTPServer;
  const seen = new Map<string, number>(); // recipient -> RCPT attempts
  const accepted: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(
      'dest.example. 60 IN MX 10 sink.dest.example.\nsink.dest.example. 60 IN A 127.0.0.1\n',
    );
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        const n = (seen.get(address.address) ?? 0) + 1;
        seen.set(address.address, n);
        if (n === 1) return callback(Object.assign(new Error('4.2.1 Try again later'), { responseCode: 451 }));
        callback();
      },
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          accepted.push(...session.envelope.rcptTo.map((r) => r.address));
          callback();
        });
      },
    });
    const sinkPort = await freePort();
    await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
    const env = await appEnv(db.url, {
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_DELIVERY_PORT: String(sinkPort),
      SWEEP_INTERVAL_MS: String(3_600_000),
      DELIVERY_RETRY_SCHEDULE: '1s',
    });
    worker = runNode(APP_ENTRY.worker, [], env);
    await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);

    const tenant = await db.prisma.tenant.create({ data: { name: 'Retry Sender' } });
    const producerRedis = connectRedis();
    const producer = new JobProducer(producerRedis, env.QUEUE_PREFIX!);
    for (const r of ['ann', 'bob', 'cat']) {
      const raw = Buffer.from(`From: a@sender.example\r\nSubject: to ${r}\r\n\r\nhello\r\n`);
      const [deliveryId] = await queueOutboundRows(db.prisma, {
        tenantId: tenant.id,
        raw,
        envelopeFrom: 'a@sender.example',
        recipients: [`${r}@dest.example`],
      });
      await producer.add(JobName.DeliverySend, { tenantId: tenant.id, deliveryId: deliveryId! });
    }
    await producer.close();
    producerRedis.disconnect();
  });

  afterAll(async () => {
    await worker?.stop();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    await dns?.close();
    await db?.drop();
  });

  it('delivers each deferred recipient on its second attempt, once', async () => {
    await expect
      .poll(() => db.prisma.delivery.count({ where: { status: 'delivered' } }), { timeout: 60_000, interval: 250 })
      .toBe(3);
    const rows = await db.prisma.delivery.findMany({
      // An attempt and its outcome share a transaction and a timestamp: compare them sorted.
      select: { recipient: true, attempts: true, events: { select: { type: true } } },
      orderBy: { recipient: 'asc' },
    });
    expect(
      rows.map((r) => [
        r.recipient,
        r.attempts,
        r.events
          .map((e) => e.type)
          .sort()
          .join(','),
      ]),
    ).toEqual(['ann', 'bob', 'cat'].map((r) => [`${r}@dest.example`, 2, 'attempt,attempt,deferred,delivered']));
    expect(accepted.sort()).toEqual(['ann@dest.example', 'bob@dest.example', 'cat@dest.example']);
  });
});

/**
 * Retries have a lane of their own (the delivery-retries queue), as Postfix keeps its deferred
 * queue beside the incoming one: a delayed job that comes due joins the back of its queue, so on
 * the send queue a due retry waited for every new message queued before it.
 */
describe('a due retry through the worker, with a backlog of new mail queued', () => {
  const BACKLOG = 40;
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let worker: RunningProcess | undefined;
  let sink: SMTPServer;
  const accepted: string[] = [];
  const deferred = new Set<string>();

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(
      'dest.example. 60 IN MX 10 sink.dest.example.\nsink.dest.example. 60 IN A 127.0.0.1\n',
    );
    sink = new SMTPServer({
      authOptional: true,
      disabledCommands: ['STARTTLS'],
      logger: false,
      onRcptTo(address, _session, callback) {
        if (address.address === 'early@dest.example' && !deferred.has(address.address)) {
          deferred.add(address.address);
          return callback(Object.assign(new Error('4.2.1 Try again later'), { responseCode: 451 }));
        }
        callback();
      },
      onData(stream, session, callback) {
        stream.resume();
        stream.on('end', () => {
          accepted.push(...session.envelope.rcptTo.map((r) => r.address));
          // A slow remote: one send job at a time takes the backlog several seconds.
          setTimeout(() => callback(), 100);
        });
      },
    });
    const sinkPort = await freePort();
    await new Promise<void>((resolve) => sink.listen(sinkPort, '127.0.0.1', resolve));
    const env = await appEnv(db.url, {
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      SMTP_DELIVERY_PORT: String(sinkPort),
      SWEEP_INTERVAL_MS: String(3_600_000),
      DELIVERY_RETRY_SCHEDULE: '1s',
      WORKER_CONCURRENCY: '1',
    });
    const tenant = await db.prisma.tenant.create({ data: { name: 'Backlog Sender' } });
    const producerRedis = connectRedis();
    const producer = new JobProducer(producerRedis, env.QUEUE_PREFIX!);
    // The deferred one first, then the backlog, all queued before the worker starts.
    for (const r of ['early', ...Array.from({ length: BACKLOG }, (_, n) => `new${n}`)]) {
      const [deliveryId] = await queueOutboundRows(db.prisma, {
        tenantId: tenant.id,
        raw: Buffer.from(`From: a@sender.example\r\nSubject: to ${r}\r\n\r\nhello\r\n`),
        envelopeFrom: 'a@sender.example',
        recipients: [`${r}@dest.example`],
      });
      await producer.add(JobName.DeliverySend, { tenantId: tenant.id, deliveryId: deliveryId! });
    }
    await producer.close();
    producerRedis.disconnect();
    worker = runNode(APP_ENTRY.worker, [], env);
    await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);
  });

  afterAll(async () => {
    await worker?.stop();
    await new Promise<void>((resolve) => sink.close(() => resolve()));
    await dns?.close();
    await db?.drop();
  });

  it('delivers the retry when it is due, before the new mail queued ahead of it has drained', async () => {
    await expect
      .poll(() => db.prisma.delivery.count({ where: { status: 'delivered' } }), { timeout: 90_000, interval: 250 })
      .toBe(BACKLOG + 1);
    expect(deferred.has('early@dest.example')).toBe(true);
    expect(accepted).toHaveLength(BACKLOG + 1);
    // On the send queue it would have come last, after all 40; on its own lane it comes about a
    // second (its schedule) into a backlog that takes several.
    expect(accepted.indexOf('early@dest.example'), accepted.join(' ')).toBeLessThan(BACKLOG / 2);
  });
});
