import { JobName } from '@mailroom/queue';
import { MailStore, blobStore, type BlobKey } from '@mailroom/mailstore';
import { BATCH_SIZE, recordRun, type MaintenanceContext, type RunJob } from './job-run';

/** Blobs younger than this are not even looked at (see the argument below). */
export const BLOB_GC_GRACE_MS = 60 * 60 * 1000;

const FK_RETRIES = 3;

export interface BlobGcOptions {
  batchSize?: number;
  graceMs?: number;
  now?: Date;
}

/**
 * Removes message blobs that no message and no outbound message refers to (deliveries refer to
 * outbound messages, so a blob of a pending delivery is kept). Walks message_blobs in
 * created_at order, 1,000 keys a step, and deletes the unreferenced ones of each step in one
 * statement; then the blobs in the object store (collectObjectBlobs).
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
 *   insert, and insert again when it is gone (test/integration/worker/storage.test.ts proves both).
 */
export async function runBlobGc(ctx: MaintenanceContext, job: RunJob, options: BlobGcOptions = {}) {
  const store = new MailStore(ctx.prisma);
  return recordRun(ctx, JobName.BlobGc, job, async (run) => {
    const batch = options.batchSize ?? BATCH_SIZE;
    const cutoff = new Date((options.now ?? new Date()).getTime() - (options.graceMs ?? BLOB_GC_GRACE_MS));
    const stats: BlobGcStats = { examined: 0, deleted: 0, bytesFreed: 0 };
    const progress = () => run.progress(stats);
    await walkBlobs(
      ctx,
      stats,
      batch,
      progress,
      (after) => store.blobCandidates(cutoff, after, batch),
      (keys) => deleteUnreferenced(store, keys, cutoff),
    );
    // The same walk over blobs whose bytes are in the object store (S3): each step deletes the
    // unreferenced rows and then their objects in one transaction
    // (MailStore.deleteUnreferencedObjectBlobs). Objects no row refers to (a writer that put one
    // and rolled back, an interrupted migration, a purged tenant) are found by `blobs:sweep`,
    // which lists the bucket.
    if (blobStore().objects) {
      await walkBlobs(
        ctx,
        stats,
        batch,
        progress,
        (after) => store.objectBlobCandidates(cutoff, after, batch),
        (keys) => retryOnReference(() => store.deleteUnreferencedObjectBlobs(keys, cutoff)),
      );
    }
    return stats;
  });
}

// A type alias, not an interface: recordRun takes a Record<string, unknown>.
type BlobGcStats = { examined: number; deleted: number; bytesFreed: number };

/** Walks blobs in created_at order, `batch` at a time, deleting the unreferenced ones of each batch. */
async function walkBlobs(
  ctx: MaintenanceContext,
  stats: BlobGcStats,
  batch: number,
  progress: () => Promise<unknown>,
  candidates: (after: BlobKey) => Promise<BlobKey[]>,
  remove: (keys: BlobKey[]) => Promise<number[]>,
) {
  let cursor: BlobKey = { createdAt: new Date(0), tenantId: '00000000-0000-0000-0000-000000000000', sha256: '' };
  for (;;) {
    const keys = await candidates(cursor);
    if (keys.length === 0) return;
    const freed = await remove(keys);
    const bytes = freed.reduce((sum, size) => sum + size, 0);
    stats.examined += keys.length;
    stats.deleted += freed.length;
    stats.bytesFreed += bytes;
    ctx.metrics.examined.inc({ job: JobName.BlobGc }, keys.length);
    ctx.metrics.deleted.inc({ job: JobName.BlobGc, table: 'message_blobs' }, freed.length);
    ctx.metrics.bytesFreed.inc({ job: JobName.BlobGc }, bytes);
    cursor = keys[keys.length - 1]!;
    await progress();
    if (keys.length < batch) return;
  }
}

async function retryOnReference<T>(step: () => Promise<T>, attempt = 1): Promise<T> {
  try {
    return await step();
  } catch (err) {
    if (attempt < FK_RETRIES && isForeignKeyViolation(err)) return retryOnReference(step, attempt + 1);
    throw err;
  }
}

/** One statement: the unreferenced blobs among `keys`, locked (skipping locked ones), deleted. */
async function deleteUnreferenced(store: MailStore, keys: BlobKey[], cutoff: Date, attempt = 1): Promise<number[]> {
  try {
    return await store.deleteUnreferencedBlobs(keys, cutoff);
  } catch (err) {
    // A reference committed between NOT EXISTS and the delete: RESTRICT refused; look again.
    if (attempt < FK_RETRIES && isForeignKeyViolation(err)) return deleteUnreferenced(store, keys, cutoff, attempt + 1);
    throw err;
  }
}

export function isForeignKeyViolation(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${JSON.stringify(err)}` : String(err);
  return /23503|foreign key/i.test(text);
}
