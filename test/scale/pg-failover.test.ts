import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@mailroom/db';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { Seeder } from '@test/support/smtp/seed';
import { startPgPair, type PgPair } from '@test/support/pg-replica';
import { printLedger } from '@test/faults/support/ledger';
import { auditInbound } from '@test/faults/support/inbound-check';
import { startMtaProcess, type MtaProcess } from '@test/faults/support/mta-process';
import { burst, byClass, type BurstJob, type Outcome } from '@test/faults/support/smtp-burst';

const MESSAGES = 600;
const CONNECTIONS = 8;
/** The primary is killed once this many messages have had their 250. */
const KILL_AFTER_ACKS = 150;
/** Time the MTA keeps running against the dead primary before it is pointed at the new one. */
const DEAD_PRIMARY_MS = 1_000;
const BACKOFF_MS = 200;
const RECIPIENTS = ['alice@acme.test', 'bob@acme.test'];
const TEST_TIMEOUT_MS = 240_000;

/**
 * Issue #17: PostgreSQL failover during an inbound burst. A private primary with a synchronous
 * streaming replica (a commit returns only once the replica has flushed it), the built MTA
 * storing a burst; after 150 acknowledgements the primary crashes (pg_ctl stop -m immediate),
 * the replica is promoted (pg_ctl promote) and the MTA restarted with DATABASE_URL naming it, as
 * an operator (or Patroni and a VIP) would. Every 250 the clients got must be on the promoted
 * database; while it happens the clients see 4xx or a refused connection, never 5xx.
 */
describe('scale: PostgreSQL primary killed mid-burst, synchronous replica promoted', () => {
  let pair: PgPair;
  let prisma: PrismaClient;
  let dns: LocalDnsServer;
  let mta: MtaProcess | undefined;
  let tenantId: string;

  beforeAll(async () => {
    pair = await startPgPair({ sync: true });
    prisma = createPrismaClient({ url: pair.primaryUrl, poolSize: 2, applicationName: 'failover-test' });
    dns = await LocalDnsServer.start();
    tenantId = (await new Seeder(prisma).hosted('acme.test', ['alice', 'bob'])).tenant.id;
    mta = await startMtaProcess(pair.primaryUrl, dns.port);
  });
  afterAll(async () => {
    await mta?.stop();
    await prisma?.$disconnect();
    await dns?.close();
    await pair?.stop();
  });

  it(
    'loses no acknowledged message: 4xx (or no answer) while the primary is gone, 250s again from the promoted replica',
    async () => {
      const started = Date.now();
      const jobs: BurstJob[] = Array.from({ length: MESSAGES }, (_, index) => ({ index, recipients: RECIPIENTS }));
      const window = { down: 0, promoted: 0, up: 0 };
      let acks = 0;
      let promotedUrl = '';
      let statusBefore = '';
      let failover: Promise<void> | null = null;
      const failOver = async () => {
        await prisma.$disconnect();
        await pair.stopPrimary('immediate');
        window.down = Date.now();
        promotedUrl = await pair.promote();
        window.promoted = Date.now();
        await new Promise((r) => setTimeout(r, Math.max(0, window.down + DEAD_PRIMARY_MS - Date.now())));
        // Point the MTA at the new primary: what a VIP or pgbouncer does without a restart.
        mta!.env.DATABASE_URL = promotedUrl;
        await mta!.kill();
        await mta!.restart();
        window.up = Date.now();
      };
      statusBefore = await pair.status();
      const first = await burst({
        ports: [mta!.port],
        jobs,
        connections: CONNECTIONS,
        from: 'sender@client.test',
        pauseAfterFailureMs: BACKOFF_MS,
        onOutcome: (o) => {
          if (o.code === 250 && ++acks === KILL_AFTER_ACKS) failover = failOver();
        },
      });
      await failover;
      const phase1 = [...first.values()];
      const classes = byClass(phase1);
      // A 250 sent after the primary died and before the MTA ran on the promoted one: impossible
      // unless something acknowledged without a commit (100 ms slack for replies in flight).
      const ackedWhileDown = phase1.filter(
        (o) => o.code === 250 && o.at > window.down + 100 && o.at < window.up,
      ).length;
      const duringFailover = byClass(phase1.filter((o) => o.at > window.down && o.at < window.up));
      const ackedAfter = phase1.filter((o) => o.code === 250 && o.at > window.up).length;

      prisma = createPrismaClient({ url: promotedUrl, poolSize: 2, applicationName: 'failover-test' });
      // The ledger's point: what the clients were told 250 for, held against the promoted database.
      const afterFailover = await auditInbound(prisma, tenantId, jobs, phase1);
      const committedUnacked = phase1.filter((o) => o.code !== 250 && afterFailover.copies.has(o.index));

      // The senders' queues retry whatever had no 250, now against the promoted primary.
      const retry = jobs
        .map((j) => {
          const o = first.get(j.index);
          return {
            index: j.index,
            recipients: o?.code === 250 ? j.recipients.filter((r) => !o.accepted.includes(r)) : j.recipients,
          };
        })
        .filter((j) => j.recipients.length > 0);
      const second = await burst({
        ports: [mta!.port],
        jobs: retry,
        connections: CONNECTIONS,
        from: 'sender@client.test',
      });
      const all: Outcome[] = [...phase1.filter((o) => o.code === 250), ...second.values()];
      const audit = await auditInbound(prisma, tenantId, jobs, all);

      printLedger({
        scenario: 'postgres-failover-sync-replica',
        sent: MESSAGES,
        acknowledged: classes['250'],
        stored: afterFailover.stored,
        delivered: audit.stored,
        duplicates: audit.duplicates,
        lost: afterFailover.lost + audit.lost,
        lostAtPromotion: afterFailover.lost,
        committedWithout250: committedUnacked.length,
        replies4xx: classes['4xx'],
        replies5xx: classes['5xx'],
        noAnswer: classes.none,
        repliesDuringFailover:
          duringFailover['4xx'] + duringFailover['5xx'] + duringFailover['250'] + duringFailover.none,
        acked250WhileDown: ackedWhileDown,
        acked250AfterFailover: ackedAfter,
        retried: retry.length,
        partial: afterFailover.partial,
        promoteMs: window.promoted - window.down,
        failoverMs: window.up - window.down,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      expect(statusBefore).toMatch(/streaming sync/);
      expect(ackedWhileDown).toBe(0);
      expect(classes['5xx']).toBe(0);
      expect(ackedAfter).toBeGreaterThan(0);
      // Synchronous replication: every commit the MTA answered 250 to was on the replica.
      expect(afterFailover.lost).toBe(0);
      expect(afterFailover.partial).toBe(0);
      expect(byClass(second.values())['250']).toBe(retry.length);
      expect(audit.lost).toBe(0);
      expect(audit.incomplete).toBe(0);
      expect(audit.stored).toBe(MESSAGES);
      expect(audit.duplicates).toBe(committedUnacked.length * RECIPIENTS.length);
      expect(audit.quotaDrift).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
