import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import { BlobStore, objectKey, useBlobStore, type ObjectStore } from '@mailroom/mailstore';
import { JobName } from '@mailroom/queue';
import { createMaintenanceMetrics, type MaintenanceContext } from '@mailroom/worker/maintenance/job-run';
import { storageHandlers } from '@mailroom/worker/processors/storage.processor';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { startLocalS3, type LocalS3 } from '@test/support/s3';
import { seedTenant } from '@test/support/worker-fixtures';

// storage.blob-orphan-sweep: the scheduled `blobs:sweep`, run through the storage queue's
// handler as the worker runs it, against s3rver (BLOB_SWEEP_MIN_AGE_HOURS=24).

const HOUR = 3_600_000;
const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe(JobName.BlobOrphanSweep, () => {
  let db: TestDatabase;
  let s3: LocalS3;
  let objects: ObjectStore;
  let registry: Registry;
  let ctx: MaintenanceContext;
  const handlers = () => storageHandlers(ctx, { graceMs: HOUR }, { minAgeHours: 24 });

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startLocalS3();
    objects = s3.store().objects!;
    registry = new Registry();
    ctx = { prisma: db.prisma, metrics: createMaintenanceMetrics(registry) };
  });
  afterAll(async () => {
    useBlobStore(new BlobStore());
    await s3?.close();
    await db?.drop();
  });

  /** An object under the blob key of `label`, last modified `ageMs` ago. */
  async function object(tenantId: string, label: string, ageMs: number) {
    const bytes = Buffer.from(label);
    const key = objectKey(tenantId, sha(bytes));
    await objects.put(key, bytes);
    s3.backdate(key, new Date(Date.now() - ageMs));
    return { key, sha256: sha(bytes), size: bytes.length };
  }

  /** A blob row (storage 's3') that refers to `o`, as a writer commits it. */
  async function referTo(tenantId: string, o: { key: string; sha256: string; size: number }) {
    await db.prisma.$executeRaw`
      INSERT INTO message_blobs (tenant_id, sha256, size, storage, storage_key, bytes)
      VALUES (${tenantId}::uuid, ${o.sha256}, ${o.size}, 's3', ${o.key}, NULL)`;
  }

  it('deletes an orphan object older than the minimum age and keeps a young orphan and a referenced object', async () => {
    useBlobStore(new BlobStore(objects, 's3'));
    const t = await seedTenant(db.prisma);
    const old = await object(t.tenantId, 'old orphan', 30 * HOUR);
    const young = await object(t.tenantId, 'young orphan', 2 * HOUR);
    const referenced = await object(t.tenantId, 'referenced', 30 * HOUR);
    await referTo(t.tenantId, referenced);

    const sut = await handlers()[JobName.BlobOrphanSweep]({}, undefined as never);

    const keys = await s3.keys();
    expect(keys).not.toContain(old.key);
    expect(keys).toContain(young.key);
    expect(keys).toContain(referenced.key);
    expect(sut).toMatchObject({ deleted: 1 });
    // The sweep's placeholder rows never commit: the orphans have no row, the referenced one its own.
    const rows = await db.prisma.$queryRaw<{ sha256: string; size: number }[]>`
      SELECT sha256, size FROM message_blobs WHERE tenant_id = ${t.tenantId}::uuid AND storage = 's3'`;
    expect(rows).toEqual([{ sha256: referenced.sha256, size: referenced.size }]);
    const run = await db.prisma.jobRun.findFirst({
      where: { name: JobName.BlobOrphanSweep },
      orderBy: { startedAt: 'desc' },
    });
    expect(run).toMatchObject({ status: 'succeeded' });
    expect(await registry.metrics()).toMatch(
      /mailroom_maintenance_rows_deleted_total\{job="storage.blob-orphan-sweep",table="s3_objects"\} 1/,
    );
  });

  it('is idempotent and safe with two workers sweeping at once', async () => {
    useBlobStore(new BlobStore(objects, 's3'));
    const t = await seedTenant(db.prisma);
    const orphans = [];
    for (let i = 0; i < 6; i++) orphans.push(await object(t.tenantId, `orphan ${i}`, 30 * HOUR));
    const referenced = await object(t.tenantId, 'kept by its row', 30 * HOUR);
    await referTo(t.tenantId, referenced);

    const both = await Promise.all([
      handlers()[JobName.BlobOrphanSweep]({}, undefined as never),
      handlers()[JobName.BlobOrphanSweep]({}, undefined as never),
    ]);
    const again = await handlers()[JobName.BlobOrphanSweep]({}, undefined as never);

    const keys = await s3.keys();
    for (const o of orphans) expect(keys).not.toContain(o.key);
    expect(keys).toContain(referenced.key);
    expect(both.every((r) => typeof r.deleted === 'number')).toBe(true);
    expect(again).toMatchObject({ deleted: 0 });
  });

  it('does nothing and records no run without an object store (S3_BUCKET unset)', async () => {
    useBlobStore(new BlobStore());
    const runs = await db.prisma.jobRun.count({ where: { name: JobName.BlobOrphanSweep } });

    const sut = await handlers()[JobName.BlobOrphanSweep]({}, undefined as never);

    expect(sut).toEqual({ skipped: 'no object store (S3_BUCKET is not set)' });
    expect(await db.prisma.jobRun.count({ where: { name: JobName.BlobOrphanSweep } })).toBe(runs);
  });
});
