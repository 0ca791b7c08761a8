import type { PrismaClient } from '@mailroom/db';
import {
  blobCounts,
  claimDatabaseBlobs,
  claimObjectKey,
  databaseBlobBytes,
  markMovedToObject,
} from './blob-object.repository';
import { objectKey } from './blob-store';
import type { ObjectStore } from './object-store';

export interface MoveProgress {
  moved: number;
  bytes: number;
  /** Blobs still in PostgreSQL after this step. */
  left: number;
}

/**
 * Moves database-stored blobs to the object store, `batch` at a time, until none is left or
 * `max` were moved. Each batch is one transaction: the rows are claimed FOR NO KEY UPDATE SKIP
 * LOCKED (writers that re-use a blob still take FOR KEY SHARE and are not held up; blob GC skips
 * them), each blob is read alone, put, and its row set to storage 's3' with bytes NULL by a
 * compare-and-set on storage = 'db'. Resumable and idempotent: an interrupted batch rolls back
 * (its objects are put again by the next run, the same bytes under the same key), and a run with
 * nothing left moves nothing.
 */
export async function moveBlobsToObjectStore(
  prisma: PrismaClient,
  objects: ObjectStore,
  options: { batch?: number; max?: number; onProgress?: (p: MoveProgress) => void } = {},
): Promise<MoveProgress> {
  const batch = options.batch ?? 100;
  const max = options.max ?? Number.POSITIVE_INFINITY;
  const total: MoveProgress = { moved: 0, bytes: 0, left: (await blobCounts(prisma)).db?.blobs ?? 0 };
  while (total.moved < max) {
    const step = await prisma.$transaction(
      async (tx) => {
        const claimed = await claimDatabaseBlobs(tx, Math.min(batch, max - total.moved));
        let moved = 0;
        let bytes = 0;
        for (const blob of claimed) {
          const body = await databaseBlobBytes(tx, blob.tenantId, blob.sha256);
          if (!body) continue;
          const key = objectKey(blob.tenantId, blob.sha256);
          await objects.put(key, body);
          moved += await markMovedToObject(tx, blob.tenantId, blob.sha256, key);
          bytes += body.length;
        }
        return { claimed: claimed.length, moved, bytes };
      },
      { timeout: 600_000, maxWait: 10_000 },
    );
    if (step.claimed === 0) break;
    total.moved += step.moved;
    total.bytes += step.bytes;
    total.left = (await blobCounts(prisma)).db?.blobs ?? 0;
    options.onProgress?.({ ...total });
  }
  return total;
}

/**
 * The orphan sweep's cutoff: objects last modified before it may go. One rule for its two
 * callers, `blobs:sweep --older-than-hours` and the worker's storage.blob-orphan-sweep
 * (BLOB_SWEEP_MIN_AGE_HOURS).
 */
export function orphanSweepCutoff(minAgeHours: number, now: Date = new Date()): Date {
  return new Date(now.getTime() - minAgeHours * 3_600_000);
}

/** A rollback on purpose: the sweep's placeholder row must never commit. */
class Rollback extends Error {}

/**
 * Deletes objects that no blob row refers to, last modified before `cutoff`: puts whose
 * transaction rolled back (a delivery that failed after its put), leftovers of an interrupted
 * migration (the row still says 'db'), and the objects of purged tenants. Each key is claimed
 * with a placeholder row in a transaction that is always rolled back (claimObjectKey), so a
 * writer of the same body waits for it and puts its object again afterwards. Safe to run twice
 * at once: the second claim of a key waits for the first to roll back, and deleting an object
 * that is already gone is not an error.
 */
export async function sweepOrphanObjects(
  prisma: PrismaClient,
  objects: ObjectStore,
  cutoff: Date,
  onProgress?: (p: { listed: number; deleted: number }) => void,
): Promise<{ listed: number; deleted: number }> {
  const stats = { listed: 0, deleted: 0 };
  for await (const object of objects.list()) {
    stats.listed++;
    const m = /^([0-9a-f-]{36})\/([0-9a-f]{64})$/.exec(object.key);
    if (!m || object.lastModified >= cutoff) continue;
    try {
      await prisma.$transaction(async (tx) => {
        const state = await claimObjectKey(tx, m[1]!, m[2]!, object.key);
        if (state !== 's3') {
          await objects.delete(object.key);
          stats.deleted++;
        }
        throw new Rollback();
      });
    } catch (err) {
      if (!(err instanceof Rollback)) throw err;
    }
    if (stats.listed % 1000 === 0) onProgress?.({ ...stats });
  }
  return stats;
}
