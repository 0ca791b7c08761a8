import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient, type PrismaClient } from '@mailroom/db';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { Seeder } from '@test/support/smtp/seed';
import { printLedger } from '@test/faults/support/ledger';
import { auditInbound } from '@test/faults/support/inbound-check';
import { startMtaProcess, type MtaProcess } from '@test/faults/support/mta-process';
import { startPrivatePostgres, type PrivatePostgres } from '@test/faults/support/private-postgres';
import { burst, byClass, type BurstJob, type Outcome } from '@test/faults/support/smtp-burst';

const MESSAGES = 600;
const CONNECTIONS = 8;
/** PostgreSQL is stopped once this many messages have had their 250 ... */
const STOP_AFTER_ACKS = 150;
/** ... and started again this much later. */
const DOWN_MS = 5_000;
/** A sending MTA backs off after a temporary failure; keeps the outage from eating the queue. */
const BACKOFF_MS = 200;
const RECIPIENTS = ['alice@acme.test', 'bob@acme.test'];

/**
 * A private PostgreSQL (initdb in a temp dir) rather than a TCP proxy: the server itself goes
 * away (pg_ctl stop -m immediate, a crash: no checkpoint, WAL replay on start), so the test
 * also proves that what the MTA acknowledged was durable on disk, not just sent to a socket.
 */
const TEST_TIMEOUT_MS = 180_000;

describe('fault: PostgreSQL stopped during a burst', () => {
  let pg: PrivatePostgres;
  let prisma: PrismaClient;
  let dns: LocalDnsServer;
  let mta: MtaProcess | undefined;
  let tenantId: string;

  beforeAll(async () => {
    pg = await startPrivatePostgres();
    prisma = createPrismaClient({ url: pg.url, poolSize: 2, applicationName: 'fault-test' });
    dns = await LocalDnsServer.start();
    tenantId = (await new Seeder(prisma).hosted('acme.test', ['alice', 'bob'])).tenant.id;
    mta = await startMtaProcess(pg.url, dns.port);
  });
  afterAll(async () => {
    await mta?.stop();
    await prisma?.$disconnect();
    await dns?.close();
    await pg?.destroy();
  });

  it(
    'answers 4xx while the database is down (never 250, never 5xx) and loses nothing; mail flows again after restart',
    async () => {
      const started = Date.now();
      const jobs: BurstJob[] = Array.from({ length: MESSAGES }, (_, index) => ({ index, recipients: RECIPIENTS }));
      const window = { down: 0, up: 0 };
      let acks = 0;
      let outage: Promise<void> | null = null;
      let healthWhileDown = 0;
      const health = `http://127.0.0.1:${mta!.env.MTA_HEALTH_PORT}/health`;
      const takeDown = async () => {
        await prisma.$disconnect();
        await pg.stop('immediate');
        window.down = Date.now();
        await new Promise((r) => setTimeout(r, DOWN_MS / 2));
        healthWhileDown = (await fetch(health)).status;
        await new Promise((r) => setTimeout(r, DOWN_MS / 2));
        window.up = Date.now();
        await pg.start();
      };
      const first = await burst({
        ports: [mta!.port],
        jobs,
        connections: CONNECTIONS,
        from: 'sender@client.test',
        pauseAfterFailureMs: BACKOFF_MS,
        onOutcome: (o) => {
          if (o.code === 250 && ++acks === STOP_AFTER_ACKS) outage = takeDown();
        },
      });
      await outage;
      const phase1 = [...first.values()];
      const classes = byClass(phase1);
      // A 250 whose reply left after the server was gone (a little slack for the event loop).
      const ackedWhileDown = phase1.filter(
        (o) => o.code === 250 && o.at > window.down + 100 && o.at < window.up,
      ).length;
      const duringOutage = byClass(phase1.filter((o) => o.at > window.down && o.at < window.up));
      const ackedAfterRestart = phase1.filter((o) => o.code === 250 && o.at > window.up).length;

      // What the database held before any retry: committed without a 250 would be resent.
      const beforeRetry = await auditInbound(prisma, tenantId, jobs, phase1);
      const committedUnacked = phase1.filter((o) => o.code !== 250 && beforeRetry.copies.has(o.index));

      // The sender's queue retries whatever had no 250.
      // A 250 with some RCPTs refused (the database went or came back between two RCPTs) covers
      // only the accepted ones; the rest are retried like the messages without a 250.
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
        scenario: 'postgres-stopped',
        sent: MESSAGES,
        acknowledged: classes['250'],
        stored: audit.stored,
        delivered: audit.stored,
        duplicates: audit.duplicates,
        lost: beforeRetry.lost + audit.lost,
        committedWithout250: committedUnacked.length,
        replies4xx: classes['4xx'],
        replies5xx: classes['5xx'],
        noAnswer: classes.none,
        repliesDuringOutage: duringOutage['4xx'] + duringOutage['5xx'] + duringOutage['250'] + duringOutage.none,
        acked250WhileDown: ackedWhileDown,
        acked250AfterRestart: ackedAfterRestart,
        healthWhileDown,
        retried: retry.length,
        partial: beforeRetry.partial,
        splitByRcpt: phase1.filter((o) => o.code === 250 && o.accepted.length < RECIPIENTS.length).length,
        incomplete: audit.incomplete,
        outageMs: window.up - window.down,
        seconds: Math.round((Date.now() - started) / 100) / 10,
      });
      expect(duringOutage['4xx']).toBeGreaterThan(0);
      expect(ackedWhileDown).toBe(0);
      expect(classes['5xx']).toBe(0);
      expect(classes.none).toBe(0);
      expect(healthWhileDown).toBe(503);
      // The same MTA process recovers by itself: its pool reconnects, no restart needed.
      expect(mta!.proc.child.exitCode).toBeNull();
      expect(ackedAfterRestart).toBeGreaterThan(0);
      expect(byClass(second.values())['250']).toBe(retry.length);
      expect(beforeRetry.lost).toBe(0);
      expect(beforeRetry.partial).toBe(0);
      expect(audit.lost).toBe(0);
      expect(audit.incomplete).toBe(0);
      expect(audit.stored).toBe(MESSAGES);
      expect(audit.duplicates).toBe(committedUnacked.length * RECIPIENTS.length);
      expect(audit.quotaDrift).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
