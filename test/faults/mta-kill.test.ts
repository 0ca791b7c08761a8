import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Seeder } from '@test/support/smtp/seed';
import { printLedger } from '@test/faults/support/ledger';
import { auditInbound } from '@test/faults/support/inbound-check';
import { startMtaProcess, type MtaProcess } from '@test/faults/support/mta-process';
import { burst, byClass, type BurstJob, type Outcome } from '@test/faults/support/smtp-burst';

// Sizes: the 2,000-message burst, over 16 sessions (the MTA allows 20 per client IP).
const MESSAGES = 2_000;
const CONNECTIONS = 16;
/** The MTA is killed once this many messages have had their 250. */
const KILL_AFTER_ACKS = 700;
const RECIPIENTS = ['alice@acme.test', 'bob@acme.test'];

const TEST_TIMEOUT_MS = 180_000;

describe(`fault: kill -9 of the MTA during a burst of ${MESSAGES} messages`, () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let mta: MtaProcess | undefined;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start();
    const hosted = await new Seeder(db.prisma).hosted('acme.test', ['alice', 'bob']);
    tenantId = hosted.tenant.id;
    mta = await startMtaProcess(db.url, dns.port);
  });
  afterAll(async () => {
    await mta?.stop();
    await dns?.close();
    await db?.drop();
  });

  it(
    'keeps every acknowledged message exactly once per recipient, never a partial one; the retried rest arrives',
    async () => {
      const started = Date.now();
      const jobs: BurstJob[] = Array.from({ length: MESSAGES }, (_, index) => ({ index, recipients: RECIPIENTS }));
      let acks = 0;
      let killed: Promise<void> | null = null;
      const first = await burst({
        ports: [mta!.port],
        jobs,
        connections: CONNECTIONS,
        from: 'sender@client.test',
        giveUp: () => killed !== null,
        onOutcome: (o) => {
          if (o.code === 250 && ++acks === KILL_AFTER_ACKS) killed = mta!.kill();
        },
      });
      await killed;
      const killedAt = Date.now();
      const phase1 = [...first.values()];
      const classes = byClass(phase1);
      const afterKill = await auditInbound(db.prisma, tenantId, jobs, phase1);

      // Nothing acknowledged is missing, nothing is half there.
      expect(afterKill.lost).toBe(0);
      expect(afterKill.partial).toBe(0);
      expect(afterKill.duplicates).toBe(0);
      expect(afterKill.quotaDrift).toBe(0);
      expect(classes['5xx']).toBe(0);
      // Committed but never acknowledged: the kill fell between the commit and the 250 reaching
      // the client. At most one per open session.
      const committedUnacked = phase1.filter((o) => o.code !== 250 && afterKill.copies.has(o.index)).length;
      expect(committedUnacked).toBeLessThanOrEqual(CONNECTIONS);

      // The sender's queue retries everything without a 250, as any MTA would, on the restarted MX.
      await mta!.restart();
      const retry = jobs.filter((j) => first.get(j.index)?.code !== 250);
      const second = await burst({
        ports: [mta!.port],
        jobs: retry,
        connections: CONNECTIONS,
        from: 'sender@client.test',
      });
      const all: Outcome[] = [...phase1.filter((o) => o.code === 250), ...second.values()];
      const final = await auditInbound(db.prisma, tenantId, jobs, all);

      printLedger({
        scenario: 'mta-kill-9',
        sent: MESSAGES,
        acknowledged: classes['250'],
        stored: afterKill.stored,
        delivered: final.stored,
        duplicates: final.duplicates,
        lost: afterKill.lost + final.lost,
        noAnswerAtKill: classes.none,
        unsentAtKill: MESSAGES - phase1.length,
        committedWithout250: committedUnacked,
        partial: afterKill.partial + final.partial,
        retried: retry.length,
        retried250: byClass(second.values())['250'],
        seconds: Math.round((Date.now() - started) / 100) / 10,
        secondsToKill: Math.round((killedAt - started) / 100) / 10,
      });
      expect(byClass(second.values())['250']).toBe(retry.length);
      expect(final.lost).toBe(0);
      expect(final.incomplete).toBe(0);
      expect(final.stored).toBe(MESSAGES);
      // Only the messages committed without their 250 can be there twice (RFC 1047's window,
      // which SMTP itself leaves open): once from the first try, once from the retry.
      expect(final.duplicates).toBe(committedUnacked * RECIPIENTS.length);
      expect(final.quotaDrift).toBe(0);
    },
    TEST_TIMEOUT_MS,
  );
});
