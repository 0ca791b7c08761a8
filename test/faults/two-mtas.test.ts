import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { submissionTransport } from '@test/support/smtp/submission-transport';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { startRedis, type TestRedis } from '@test/support/processes';
import { Seeder } from '@test/support/smtp/seed';
import { printLedger } from '@test/faults/support/ledger';
import { auditInbound } from '@test/faults/support/inbound-check';
import { startMtaProcess, type MtaProcess } from '@test/faults/support/mta-process';
import {
  destinationZone,
  diagnose,
  Sink,
  startAll,
  startWorker,
  statusCounts,
  waitUntil,
  type WorkerProcess,
} from '@test/faults/support/outbound';
import { burst, byClass, type BurstJob } from '@test/faults/support/smtp-burst';
import { workerSettings } from '@test/faults/support/worker-settings';

const MESSAGES = 800;
/** Split evenly: connection n goes to MTA n % 2. */
const CONNECTIONS = 16;
const RECIPIENTS = ['alice@acme.test', 'bob@acme.test'];
/**
 * Submitted at the same time through both MTAs (implicit TLS, AUTH) by SENDERS mailboxes, each
 * to one recipient in each of two external domains: two deliveries per message, carried by the
 * two workers to the sink. Per mailbox below the default 200 messages an hour.
 */
const SUBMITTED = 200;
const SENDERS = 4;
const PASSWORD = 'fault injection pass phrase';
const TEST_TIMEOUT_MS = 240_000;

describe('fault: two MTA processes and two worker processes on one database', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let redis: TestRedis;
  let sink: Sink;
  const mtas: MtaProcess[] = [];
  const workers: WorkerProcess[] = [];
  let tenantId: string;
  let senderTenantId: string;
  const senders: string[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(destinationZone(2));
    redis = await startRedis();
    // One listener per worker (each its own SMTP_DELIVERY_PORT): the sink sees who sent what.
    sink = await Sink.start({ listeners: 2 });
    const seed = new Seeder(db.prisma);
    tenantId = (await seed.hosted('acme.test', ['alice', 'bob'])).tenant.id;
    const sending = await seed.hosted('sender.test', []);
    senderTenantId = sending.tenant.id;
    const passwordHash = await argon2.hash(PASSWORD, { type: argon2.argon2id });
    for (let n = 0; n < SENDERS; n++) {
      const mailbox = await seed.mailbox(senderTenantId, sending.domain.id, `s${n}`);
      await db.prisma.mailbox.update({
        where: { tenantId_id: { tenantId: senderTenantId, id: mailbox.id } },
        data: { passwordHash, smtpEnabled: true },
      });
      senders.push(`s${n}@sender.test`);
    }
    // MTAs and workers share one Redis and one queue prefix, as replicas of one deployment do.
    const shared = { ...redis.env, QUEUE_PREFIX: `fault${randomBytes(3).toString('hex')}` };
    // Settled, not Promise.all: what did start is in mtas/workers for afterAll even if one fails.
    const started = await Promise.allSettled([
      startAll([startMtaProcess(db.url, dns.port, shared), startMtaProcess(db.url, dns.port, shared)], mtas),
      startAll(
        sink.ports.map((sinkPort, n) =>
          startWorker(
            `worker-${n}`,
            db.url,
            workerSettings({
              redis: redis.env,
              queuePrefix: shared.QUEUE_PREFIX,
              dnsPort: dns.port,
              sinkPort,
            }),
          ),
        ),
        workers,
      ),
    ]);
    const failed = started.find((r) => r.status === 'rejected');
    if (failed) throw failed.reason;
  });
  afterAll(async () => {
    await Promise.all([...mtas, ...workers].map((p) => p.stop()));
    await sink?.close();
    await redis?.stop();
    await dns?.close();
    await db?.drop();
  });

  it(
    'stores inbound mail once per recipient with gapless uids and exact quotas, and delivers submitted mail once',
    async () => {
      const started = Date.now();
      const jobs: BurstJob[] = Array.from({ length: MESSAGES }, (_, index) => ({ index, recipients: RECIPIENTS }));
      const [outcomes, submissions] = await Promise.all([
        burst({
          ports: mtas.map((m) => m.port),
          jobs,
          connections: CONNECTIONS,
          from: 'sender@client.test',
          // Two workers parse and deliver meanwhile on the same cores: wait for slow answers.
          transactionTimeoutMs: 120_000,
        }),
        submitThroughBoth(mtas, senders),
      ]);
      const inboundDone = Date.now();
      const audit = await auditInbound(db.prisma, tenantId, jobs, outcomes.values());
      // Both processes allocate uids in the same folders: the folder row lock must serialise them.
      const folders = await db.prisma.$queryRaw<{ name: string; n: number; max_uid: number; uid_next: number }[]>`
      SELECT f.name, count(m.id)::int AS n, COALESCE(max(m.uid), 0)::int AS max_uid, f.uid_next::int AS uid_next
      FROM folders f LEFT JOIN messages m ON m.tenant_id = f.tenant_id AND m.folder_id = f.id
      WHERE f.tenant_id = ${tenantId}::uuid AND f.kind = 'inbox' GROUP BY f.tenant_id, f.id`;
      const classes = byClass(outcomes.values());
      const served = mtas.map((m) => [...outcomes.values()].filter((o) => o.port === m.port && o.code === 250).length);
      // A quota recount by a worker would repair drift before the check below: it must not have.
      const quotaRepairs = (await Promise.all(workers.map((w) => w.metric('mailroom_quota_drift_bytes_total')))).reduce(
        (a, b) => a + b,
        0,
      );
      printLedger({
        scenario: 'two-mtas',
        sent: MESSAGES,
        acknowledged: classes['250'],
        stored: audit.stored,
        delivered: audit.stored,
        duplicates: audit.duplicates,
        lost: audit.lost,
        mtas: mtas.length,
        workers: workers.length,
        acknowledgedByMta1: served[0]!,
        acknowledgedByMta2: served[1]!,
        replies4xx: classes['4xx'],
        replies5xx: classes['5xx'],
        noAnswer: classes.none,
        firstNoAnswer: [...outcomes.values()].find((o) => o.code === null)?.text.slice(0, 120) ?? '',
        partial: audit.partial,
        quotaDrift: audit.quotaDrift,
        quotaDriftBytesRepairedByWorkers: quotaRepairs,
        uidGaps: folders.filter((f) => f.max_uid !== f.n || f.uid_next !== f.n + 1).length,
        seconds: Math.round((inboundDone - started) / 100) / 10,
        messagesPerSecond: Math.round(MESSAGES / ((inboundDone - started) / 1000)),
      });

      // The submitted mail: every accepted message's deliveries reach the sink once.
      const accepted = [...submissions.values()].filter((s) => /^250 /.test(s.response));
      const expectedDeliveries = accepted.length * 2;
      await waitUntil(
        'every submitted delivery delivered',
        async () => ((await statusCounts(db.prisma, senderTenantId)).delivered ?? 0) === expectedDeliveries,
        120_000,
      ).catch(async (err: Error) => {
        throw new Error(`${err.message}: ${await diagnose(db.prisma, senderTenantId, sink, workers)}`);
      });
      const deliveries = await db.prisma.delivery.findMany({
        where: { tenantId: senderTenantId },
        select: { id: true, attempts: true, lastResponse: true },
      });
      const outbound = await db.prisma.outboundMessage.count({ where: { tenantId: senderTenantId } });
      const lostOutbound = deliveries.filter((d) => !sink.counts.has(d.id)).length;
      const submittedVia = mtas.map((m) => accepted.filter((s) => s.mtaPort === m.env.SUBMISSIONS_PORT).length);
      const deliveredBy = sink.ports.map((p) => sink.on(p).length);
      printLedger({
        scenario: 'two-mtas-two-workers-outbound',
        sent: SUBMITTED,
        acknowledged: accepted.length,
        stored: outbound,
        delivered: sink.counts.size,
        duplicates: sink.duplicates(),
        lost: lostOutbound,
        deliveries: deliveries.length,
        submittedViaMta1: submittedVia[0]!,
        submittedViaMta2: submittedVia[1]!,
        deliveredByWorker1: deliveredBy[0]!,
        deliveredByWorker2: deliveredBy[1]!,
        claimedTwice: deliveries.filter((d) => d.attempts > 1).length,
        refused: SUBMITTED - accepted.length,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });

      expect(served[0]! + served[1]!).toBe(MESSAGES);
      expect(Math.min(...served)).toBeGreaterThan(MESSAGES / 4);
      expect(classes['250']).toBe(MESSAGES);
      expect(audit.stored).toBe(MESSAGES);
      expect(audit.lost).toBe(0);
      expect(audit.duplicates).toBe(0);
      expect(audit.partial).toBe(0);
      expect(audit.incomplete).toBe(0);
      expect(audit.quotaDrift).toBe(0);
      expect(quotaRepairs).toBe(0);
      expect(folders).toHaveLength(RECIPIENTS.length);
      for (const f of folders) {
        expect({ n: f.n, maxUid: f.max_uid, uidNext: f.uid_next }).toEqual({
          n: MESSAGES,
          maxUid: MESSAGES,
          uidNext: MESSAGES + 1,
        });
      }

      const refusals = [...submissions.values()].filter((s) => !/^250 /.test(s.response));
      expect(refusals.map((s) => s.response)).toEqual([]);
      expect(outbound).toBe(SUBMITTED);
      expect(deliveries).toHaveLength(SUBMITTED * 2);
      expect(lostOutbound).toBe(0);
      expect(sink.duplicates()).toBe(0);
      expect(sink.counts.size).toBe(SUBMITTED * 2);
      expect(deliveries.filter((d) => d.attempts !== 1).map((d) => d.lastResponse)).toEqual([]);
      for (const n of submittedVia) expect(n).toBeGreaterThan(0);
      for (const n of deliveredBy) expect(n).toBeGreaterThan(0);
      for (const p of [...mtas, ...workers]) expect(p.proc.child.exitCode, p.proc.output()).toBeNull();
    },
    TEST_TIMEOUT_MS,
  );
});

interface Submission {
  mtaPort: string;
  response: string;
}

/**
 * SUBMITTED messages through both MTAs' implicit-TLS submission ports: one session per
 * (sender, MTA), each message to `u<i>@dest0.example` and `u<i>@dest1.example`.
 */
async function submitThroughBoth(mtas: MtaProcess[], senders: string[]): Promise<Map<number, Submission>> {
  const results = new Map<number, Submission>();
  const lanes = senders.flatMap((user) => mtas.map((mta) => ({ user, port: mta.env.SUBMISSIONS_PORT! })));
  await Promise.all(
    lanes.map(async (lane, n) => {
      const transport = submissionTransport(Number(lane.port), lane.user, PASSWORD);
      try {
        for (let i = n; i < SUBMITTED; i += lanes.length) {
          try {
            const info = await transport.sendMail({
              from: lane.user,
              to: [`u${i}@dest0.example`, `u${i}@dest1.example`],
              subject: `submit ${i}`,
              text: `Submitted message ${i}.`,
            });
            results.set(i, { mtaPort: lane.port, response: info.response });
          } catch (err) {
            const e = err as { response?: string; message: string };
            results.set(i, { mtaPort: lane.port, response: e.response ?? e.message });
          }
        }
      } finally {
        transport.close();
      }
    }),
  );
  return results;
}
