import { JobName } from '@mailroom/queue';
import { BATCH_SIZE, recordRun, type MaintenanceContext, type RunJob } from './job-run';

/** Blobs younger than this are not even looked at (see the argument below). */
export const BLOB_GC_GRACE_MS = 60 * 60 * 1000;

const FK_RETRIES = 3;

export interface BlobGcOptions {
  batchSize?: number;
  graceMs?: number;
  now?: Date;
}

interface Key {
  tenant_id: string;
  sha256: string;
  created_at: Date;
}

/**
 * Removes message blobs that no message and no outbound message refers to (deliveries refer to
 * outbound messages, so a blob of a pending delivery is kept). Walks message_blobs in
 * created_at order, 1,000 keys a step, and deletes the unreferenced ones of each step in one
 * statement. Only blobs stored in the database ('db'); object-store blobs need a GC of their own.
 *
 * Why a blob an in-flight transaction is about to use is never removed. Writers (the MTA,
 * submission) insert the blob with INSERT ... ON CONFLICT DO NOTHING and the row referring to it
 * in the same transaction; the reference's foreign key check takes FOR KEY SHARE on the blob.
 * - A new blob is invisible to GC until its transaction commits, and then so is its reference.
 *   The grace period is a second margin for writers that would ever split the two.
 * - A blob the writer re-uses and has already locked (its reference inserted, not committed):
 *   GC's FOR UPDATE SKIP LOCKED skips it. If the reference committed after GC evaluated NOT
 *   EXISTS, the ON DELETE RESTRICT check on GC's DELETE sees it and fails the statement; the step
 *   is retried and the blob is now referenced. The FK makes a dangling reference impossible.
 * - GC's delete comes first (uncommitted): the writer's ON CONFLICT waits for it, then inserts
 *   the blob again. Safe.
 * - The one window GC cannot close alone: the writer's ON CONFLICT DO NOTHING saw the old blob
 *   (taking no lock), GC deletes and commits, then the writer's FK check finds nothing and its
 *   transaction fails (a temporary SMTP failure; nothing committed, nothing lost). Writers close
 *   it by locking what they re-use: SELECT 1 FROM message_blobs ... FOR KEY SHARE right after the
 *   insert, and insert again when it is gone (test/worker-blob-gc.test.ts proves both).
 */
export async function runBlobGc(ctx: MaintenanceContext, job: RunJob, options: BlobGcOptions = {}) {
  return recordRun(ctx, JobName.BlobGc, job, async (run) => {
    const batch = options.batchSize ?? BATCH_SIZE;
    const cutoff = new Date((options.now ?? new Date()).getTime() - (options.graceMs ?? BLOB_GC_GRACE_MS));
    const stats = { examined: 0, deleted: 0, bytesFreed: 0 };
    let cursor = { createdAt: new Date(0), tenantId: '00000000-0000-0000-0000-000000000000', sha256: '' };
    for (;;) {
      const keys = await ctx.prisma.$queryRaw<Key[]>`
        SELECT tenant_id, sha256, created_at FROM message_blobs
        WHERE created_at < ${cutoff} AND storage = 'db'
          AND (created_at, tenant_id, sha256) > (${cursor.createdAt}, ${cursor.tenantId}::uuid, ${cursor.sha256})
        ORDER BY created_at, tenant_id, sha256 LIMIT ${batch}`;
      if (keys.length === 0) break;
      const freed = await deleteUnreferenced(ctx, keys, cutoff);
      stats.examined += keys.length;
      stats.deleted += freed.length;
      stats.bytesFreed += freed.reduce((sum, f) => sum + f.size, 0);
      ctx.metrics.examined.inc({ job: JobName.BlobGc }, keys.length);
      ctx.metrics.deleted.inc({ job: JobName.BlobGc, table: 'message_blobs' }, freed.length);
      ctx.metrics.bytesFreed.inc(
        { job: JobName.BlobGc },
        freed.reduce((sum, f) => sum + f.size, 0),
      );
      const last = keys[keys.length - 1]!;
      cursor = { createdAt: last.created_at, tenantId: last.tenant_id, sha256: last.sha256 };
      await run.progress(stats);
      if (keys.length < batch) break;
    }
    return stats;
  });
}

/** One statement: the unreferenced blobs among `keys`, locked (skipping locked ones), deleted. */
async function deleteUnreferenced(ctx: MaintenanceContext, keys: Key[], cutoff: Date, attempt = 1) {
  try {
    return await ctx.prisma.$queryRaw<{ size: number }[]>`
      WITH doomed AS (
        SELECT b.tenant_id, b.sha256 FROM message_blobs b
        JOIN unnest(${keys.map((k) => k.tenant_id)}::uuid[], ${keys.map((k) => k.sha256)}::text[]) AS k(tenant_id, sha256)
          ON b.tenant_id = k.tenant_id AND b.sha256 = k.sha256
        WHERE b.created_at < ${cutoff}
          AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = b.tenant_id AND m.blob_sha256 = b.sha256)
          AND NOT EXISTS (
            SELECT 1 FROM outbound_messages o WHERE o.tenant_id = b.tenant_id AND o.blob_sha256 = b.sha256)
        FOR UPDATE OF b SKIP LOCKED)
      DELETE FROM message_blobs b USING doomed d
      WHERE b.tenant_id = d.tenant_id AND b.sha256 = d.sha256
      RETURNING b.size`;
  } catch (err) {
    // A reference committed between NOT EXISTS and the delete: RESTRICT refused; look again.
    if (attempt < FK_RETRIES && isForeignKeyViolation(err)) return deleteUnreferenced(ctx, keys, cutoff, attempt + 1);
    throw err;
  }
}

export function isForeignKeyViolation(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${JSON.stringify(err)}` : String(err);
  return /23503|foreign key/i.test(text);
}
