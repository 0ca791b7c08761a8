import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalDnsServer } from '../../libs/dns/src/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Seeder } from '../mta/support/seed';
import { printLedger } from './support/ledger';
import { auditInbound } from './support/inbound-check';
import { startMtaProcess, type MtaProcess } from './support/mta-process';
import { burst, byClass, type BurstJob } from './support/smtp-burst';

const MESSAGES = 800;
/** Split evenly: connection n goes to MTA n % 2. */
const CONNECTIONS = 16;
const RECIPIENTS = ['alice@acme.test', 'bob@acme.test'];
const TEST_TIMEOUT_MS = 180_000;

describe('fault: two MTA processes on one database', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  const mtas: MtaProcess[] = [];
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start();
    tenantId = (await new Seeder(db.prisma).hosted('acme.test', ['alice', 'bob'])).tenant.id;
    mtas.push(...(await Promise.all([startMtaProcess(db.url, dns.port), startMtaProcess(db.url, dns.port)])));
  });
  afterAll(async () => {
    await Promise.all(mtas.map((m) => m.stop()));
    await dns?.close();
    await db?.drop();
  });

  it(
    'stores every message once per recipient with gapless IMAP uids and exact quota counters',
    async () => {
      const started = Date.now();
      const jobs: BurstJob[] = Array.from({ length: MESSAGES }, (_, index) => ({ index, recipients: RECIPIENTS }));
      const outcomes = await burst({
        ports: mtas.map((m) => m.port),
        jobs,
        connections: CONNECTIONS,
        from: 'sender@client.test',
      });
      const audit = await auditInbound(db.prisma, tenantId, jobs, outcomes.values());
      // Both processes allocate uids in the same folders: the folder row lock must serialise them.
      const folders = await db.prisma.$queryRaw<{ name: string; n: number; max_uid: number; uid_next: number }[]>`
      SELECT f.name, count(m.id)::int AS n, COALESCE(max(m.uid), 0)::int AS max_uid, f.uid_next::int AS uid_next
      FROM folders f LEFT JOIN messages m ON m.tenant_id = f.tenant_id AND m.folder_id = f.id
      WHERE f.tenant_id = ${tenantId}::uuid AND f.kind = 'inbox' GROUP BY f.tenant_id, f.id`;
      const classes = byClass(outcomes.values());
      const served = mtas.map((m) => [...outcomes.values()].filter((o) => o.port === m.port && o.code === 250).length);
      printLedger({
        scenario: 'two-mtas',
        sent: MESSAGES,
        acknowledged: classes['250'],
        stored: audit.stored,
        delivered: audit.stored,
        duplicates: audit.duplicates,
        lost: audit.lost,
        mtas: mtas.length,
        acknowledgedByMta1: served[0]!,
        acknowledgedByMta2: served[1]!,
        replies4xx: classes['4xx'],
        replies5xx: classes['5xx'],
        noAnswer: classes.none,
        partial: audit.partial,
        quotaDrift: audit.quotaDrift,
        uidGaps: folders.filter((f) => f.max_uid !== f.n || f.uid_next !== f.n + 1).length,
        seconds: Math.round((Date.now() - started) / 100) / 10,
        messagesPerSecond: Math.round(MESSAGES / ((Date.now() - started) / 1000)),
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
      expect(folders).toHaveLength(RECIPIENTS.length);
      for (const f of folders) {
        expect({ n: f.n, maxUid: f.max_uid, uidNext: f.uid_next }).toEqual({
          n: MESSAGES,
          maxUid: MESSAGES,
          uidNext: MESSAGES + 1,
        });
      }
    },
    TEST_TIMEOUT_MS,
  );
});
