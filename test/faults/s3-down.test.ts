import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore, useBlobStore } from '@mailroom/mailstore';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { startLocalS3, type LocalS3 } from '@test/support/s3';
import { Seeder } from '@test/support/smtp/seed';
import { printLedger } from '@test/faults/support/ledger';
import { auditInbound } from '@test/faults/support/inbound-check';
import { startMtaProcess, type MtaProcess } from '@test/faults/support/mta-process';
import { burst, byClass, type BurstJob, type Outcome } from '@test/faults/support/smtp-burst';

const MESSAGES = 300;
const CONNECTIONS = 6;
/** The S3 server is stopped once this many messages have had their 250 ... */
const STOP_AFTER_ACKS = 100;
/** ... and started again this much later. */
const DOWN_MS = 2_000;
const BACKOFF_MS = 100;
const RECIPIENTS = ['alice@acme.test', 'bob@acme.test'];

/**
 * Bodies in S3 (BLOB_STORE=s3, every body) and the S3 server stopped during an inbound burst to
 * the built MTA: the MTA answers 4xx while it is down, never a 250 for a message whose body is
 * not in the bucket; after the sender's retries every message is stored once per recipient and
 * every stored message's body is in the bucket, byte for byte (its sha256).
 */
describe('fault: the S3 store stopped during a burst', () => {
  let db: TestDatabase;
  let s3: LocalS3;
  let dns: LocalDnsServer;
  let mta: MtaProcess | undefined;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startLocalS3();
    dns = await LocalDnsServer.start();
    tenantId = (await new Seeder(db.prisma).hosted('acme.test', ['alice', 'bob'])).tenant.id;
    mta = await startMtaProcess(db.url, dns.port, s3.env({ BLOB_S3_MIN_BYTES: '0' }));
  });
  afterAll(async () => {
    await mta?.stop();
    useBlobStore(new BlobStore());
    await s3?.close();
    await dns?.close();
    await db?.drop();
  });

  /** Stored messages of the burst whose body is not in the bucket with its sha256. */
  async function bodiesMissing(): Promise<number> {
    const rows = await db.prisma.$queryRaw<{ sha256: string; storage: string; storage_key: string | null }[]>`
      SELECT DISTINCT b.sha256, b.storage, b.storage_key FROM messages m
      JOIN message_blobs b ON b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256
      WHERE m.tenant_id = ${tenantId}::uuid AND m.subject LIKE 'burst %'`;
    const objects = s3.store().objects!;
    let missing = 0;
    for (const r of rows) {
      if (r.storage !== 's3' || !r.storage_key) {
        missing++;
        continue;
      }
      const body = await objects.get(r.storage_key).catch(() => null);
      if (!body || createHash('sha256').update(body).digest('hex') !== r.sha256) missing++;
    }
    return missing;
  }

  it('answers 4xx while S3 is down (never 250, never 5xx), loses nothing, and every stored body is in the bucket', async () => {
    const started = Date.now();
    const jobs: BurstJob[] = Array.from({ length: MESSAGES }, (_, index) => ({ index, recipients: RECIPIENTS }));
    // stopping: close() called (requests in flight may still finish); down: the listener is gone.
    const window = { stopping: 0, down: 0, up: 0 };
    let acks = 0;
    let outage: Promise<void> | null = null;
    const takeDown = async () => {
      window.stopping = Date.now();
      await s3.stop();
      window.down = Date.now();
      await new Promise((r) => setTimeout(r, DOWN_MS));
      window.up = Date.now();
      await s3.start();
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
    const ackedWhileDown = phase1.filter((o) => o.code === 250 && o.at > window.down + 100 && o.at < window.up).length;
    // A put refused while S3 is down is retried by the SDK with back-off, so its 4xx may come a
    // little after S3 is back: the outage's replies are those until a second after it ended.
    const duringOutage = byClass(phase1.filter((o) => o.at > window.stopping && o.at < window.up + 1_000));
    const beforeRetry = await auditInbound(db.prisma, tenantId, jobs, phase1);
    const missingBeforeRetry = await bodiesMissing();

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
    const audit = await auditInbound(db.prisma, tenantId, jobs, all);
    const missing = await bodiesMissing();

    printLedger({
      scenario: 's3-stopped',
      sent: MESSAGES,
      acknowledged: classes['250'],
      stored: audit.stored,
      delivered: audit.stored,
      duplicates: audit.duplicates,
      lost: beforeRetry.lost + audit.lost,
      bodiesMissing: missingBeforeRetry + missing,
      replies4xx: classes['4xx'],
      replies5xx: classes['5xx'],
      noAnswer: classes.none,
      replies4xxDuringOutage: duringOutage['4xx'],
      acked250WhileDown: ackedWhileDown,
      retried: retry.length,
      objects: (await s3.keys()).length,
      outageMs: window.up - window.down,
      closeMs: window.down - window.stopping,
      seconds: Math.round((Date.now() - started) / 100) / 10,
    });
    expect(duringOutage['4xx']).toBeGreaterThan(0);
    expect(ackedWhileDown).toBe(0);
    expect(classes['5xx']).toBe(0);
    expect(classes.none).toBe(0);
    expect(byClass(second.values())['250']).toBe(retry.length);
    expect(beforeRetry.lost).toBe(0);
    expect(missingBeforeRetry).toBe(0);
    expect(audit.lost).toBe(0);
    expect(audit.incomplete).toBe(0);
    expect(audit.stored).toBe(MESSAGES);
    expect(audit.duplicates).toBe(0);
    expect(missing).toBe(0);
    expect(audit.quotaDrift).toBe(0);
  }, 180_000);
});
