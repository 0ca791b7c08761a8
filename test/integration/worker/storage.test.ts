import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHash } from 'node:crypto';
import pg from 'pg';
import { Registry } from 'prom-client';
import { JobName } from '@mailroom/queue';
import { isForeignKeyViolation, runBlobGc } from '@mailroom/worker/maintenance/blob-gc';
import { createMaintenanceMetrics, type MaintenanceContext } from '@mailroom/worker/maintenance/job-run';
import { runQuotaRecount } from '@mailroom/worker/maintenance/quota';
import { storageHandlers } from '@mailroom/worker/processors/storage.processor';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { addMessages, expectExactQuota, seedTenant } from '@test/support/worker-fixtures';

const HOUR = 3_600_000;

describe('storage jobs', () => {
  let db: TestDatabase;
  let ctx: MaintenanceContext;
  let registry: Registry;

  beforeAll(async () => {
    db = await createTestDatabase();
    registry = new Registry();
    ctx = { prisma: db.prisma, metrics: createMaintenanceMetrics(registry) };
  });
  afterAll(async () => {
    await db?.drop();
  });

  async function blob(tenantId: string, label: string, ageMs: number) {
    const bytes = Buffer.from(label);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await db.prisma.$executeRaw`
      INSERT INTO message_blobs (tenant_id, sha256, size, bytes, created_at)
      VALUES (${tenantId}::uuid, ${sha256}, ${bytes.length}, ${bytes}, now() - make_interval(secs => ${ageMs / 1000}))`;
    return sha256;
  }

  it('blob GC removes old unreferenced blobs and keeps referenced and young ones', async () => {
    const t = await seedTenant(db.prisma);
    const box = t.boxes[0]!;
    const orphan = await blob(t.tenantId, 'orphan', 2 * HOUR);
    const young = await blob(t.tenantId, 'young', 60_000);
    const outbound = await blob(t.tenantId, 'outbound', 2 * HOUR);
    await db.prisma
      .$executeRaw`UPDATE message_blobs SET created_at = now() - interval '2 hours' WHERE sha256 = ${t.sha256}`;
    await addMessages(db.prisma, t, box.id, box.inbox, 1, 1);
    await db.prisma.outboundMessage.create({
      data: {
        tenantId: t.tenantId,
        kind: 'submission',
        envelopeFrom: 'a@example.com',
        fromDomain: 'example.com',
        blobSha256: outbound,
        size: 8,
      },
    });

    const sut = await runBlobGc(ctx, undefined);

    const left = (await db.prisma.messageBlob.findMany({ where: { tenantId: t.tenantId } })).map((b) => b.sha256);
    expect(left.sort()).toEqual([t.sha256, young, outbound].sort());
    expect(left).not.toContain(orphan);
    expect(sut).toMatchObject({ deleted: 1, bytesFreed: 6 });
    expect(await registry.metrics()).toMatch(
      /mailroom_maintenance_rows_deleted_total\{job="storage.blob-gc",table="message_blobs"\} 1/,
    );
  });

  it('the storage.blob-gc handler takes its grace period from BLOB_GC_GRACE_MINUTES', async () => {
    const t = await seedTenant(db.prisma);
    const fiveMinutes = await blob(t.tenantId, 'five minutes old', 5 * 60_000);
    const justNow = await blob(t.tenantId, 'just now', 10_000);
    const sut = storageHandlers(ctx, { graceMs: 60_000 }, { minAgeHours: 24 }); // BLOB_GC_GRACE_MINUTES=1

    await sut[JobName.BlobGc]({}, undefined as never);

    const left = (await db.prisma.messageBlob.findMany({ where: { tenantId: t.tenantId } })).map((b) => b.sha256);
    expect(left).toContain(justNow);
    expect(left).not.toContain(fiveMinutes);
  });

  /**
   * Writers re-use old, unreferenced blobs while GC runs in a loop with no grace period. With
   * the locking protocol (lock the blob after ON CONFLICT DO NOTHING, insert again if GC took
   * it), no writer ever fails and every committed message has its blob; with the bare
   * protocol the FK still forbids a dangling reference: the worst case is a failed, retryable
   * transaction.
   */
  for (const protocol of ['locking', 'bare'] as const) {
    it(`GC racing writers that re-use blobs never removes a blob in use (${protocol} writer)`, async () => {
      const t = await seedTenant(db.prisma);
      const box = t.boxes[0]!;
      const reused: string[] = [];
      const garbage: string[] = [];
      for (let i = 0; i < 200; i++) reused.push(await blob(t.tenantId, `${protocol}-reused-${i}`, 2 * HOUR));
      for (let i = 0; i < 60; i++) garbage.push(await blob(t.tenantId, `${protocol}-garbage-${i}`, 2 * HOUR));

      const failures: unknown[] = [];
      let stop = false;
      let uid = 0;
      const writer = async (shas: string[]) => {
        const client = new pg.Client({ connectionString: db.url });
        await client.connect();
        try {
          for (const sha of shas) {
            try {
              await client.query('BEGIN');
              const insertBlob = () =>
                client.query(
                  `INSERT INTO message_blobs (tenant_id, sha256, size, bytes) VALUES ($1, $2, 1, '\\x00')
                   ON CONFLICT (tenant_id, sha256) DO NOTHING`,
                  [t.tenantId, sha],
                );
              await insertBlob();
              if (protocol === 'locking') {
                for (;;) {
                  const locked = await client.query(
                    'SELECT 1 FROM message_blobs WHERE tenant_id = $1 AND sha256 = $2 FOR KEY SHARE',
                    [t.tenantId, sha],
                  );
                  if (locked.rowCount) break;
                  await insertBlob();
                }
              }
              await client.query('SELECT pg_sleep(0.003)'); // the MTA's quota and folder work
              await client.query(
                `INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, size, flags, envelope_from, envelope_to)
                 VALUES ($1, $2, $3, $4, $5, 1, '{}', 'a@example.com', 'b@example.com')`,
                [t.tenantId, box.id, box.inbox, sha, ++uid + 1_000_000],
              );
              await client.query('COMMIT');
            } catch (err) {
              failures.push(err);
              await client.query('ROLLBACK');
            }
          }
        } finally {
          await client.end();
        }
      };
      const gcLoop = async () => {
        let runs = 0;
        while (!stop) {
          await runBlobGc(ctx, undefined, { graceMs: 0, batchSize: 50 });
          runs++;
        }
        return runs;
      };
      const gc = gcLoop();
      await Promise.all([0, 1, 2, 3].map((w) => writer(reused.filter((_, i) => i % 4 === w))));
      stop = true;
      expect(await gc).toBeGreaterThan(0);
      await runBlobGc(ctx, undefined, { graceMs: 0 });

      // Every committed message has its blob, and no garbage survived.
      const dangling = await db.prisma.$queryRaw<{ n: number }[]>`
        SELECT count(*)::int AS n FROM messages m WHERE m.tenant_id = ${t.tenantId}::uuid
          AND NOT EXISTS (SELECT 1 FROM message_blobs b WHERE b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256)`;
      expect(dangling[0]!.n).toBe(0);
      const left = await db.prisma.messageBlob.findMany({ where: { tenantId: t.tenantId }, select: { sha256: true } });
      expect(left.filter((b) => garbage.includes(b.sha256))).toEqual([]);
      const committed = await db.prisma.message.count({ where: { tenantId: t.tenantId, uid: { gt: 1_000_000 } } });
      if (protocol === 'locking') {
        expect(failures).toEqual([]);
        expect(committed).toBe(reused.length);
      } else {
        expect(failures.every(isForeignKeyViolation)).toBe(true);
        expect(committed + failures.length).toBe(reused.length);
        console.info(`bare writer: ${failures.length} of ${reused.length} transactions lost the race (FK, retryable)`);
      }
    });
  }

  it('quota recount repairs drift and reports how much it found', async () => {
    const t = await seedTenant(db.prisma, 3);
    for (const box of t.boxes) await addMessages(db.prisma, t, box.id, box.inbox, 10, 1, 100);
    await runQuotaRecount(ctx, undefined); // the other tests' writers charged no quota
    await db.prisma.$executeRaw`UPDATE mailboxes SET used_bytes = used_bytes + 250, message_count = message_count - 1
      WHERE tenant_id = ${t.tenantId}::uuid AND id = ${t.boxes[0]!.id}::uuid`;
    await db.prisma.$executeRaw`UPDATE mailboxes SET used_bytes = 0
      WHERE tenant_id = ${t.tenantId}::uuid AND id = ${t.boxes[1]!.id}::uuid`;

    const sut = await runQuotaRecount(ctx, undefined);

    expect(sut).toMatchObject({ drifted: 2, driftBytes: 250 + 1_000, driftMessages: 1 });
    await expectExactQuota(db.prisma, t.tenantId);
    expect((await runQuotaRecount(ctx, undefined)).drifted).toBe(0);
  });
});
