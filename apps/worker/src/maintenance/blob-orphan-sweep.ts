import { JobName } from '@mailroom/queue';
import { blobStore, orphanSweepCutoff, sweepOrphanObjects } from '@mailroom/mailstore';
import type { JobResult } from '../job-handler';
import { recordRun, type MaintenanceContext, type RunJob } from './job-run';

export interface BlobOrphanSweepOptions {
  /** Objects modified less than this long ago are left alone (BLOB_SWEEP_MIN_AGE_HOURS). */
  minAgeHours: number;
  now?: Date;
}

/**
 * storage.blob-orphan-sweep: the scheduled `blobs:sweep`. Deletes the objects of the bucket that
 * no blob row refers to and that are older than `minAgeHours` (sweepOrphanObjects, the one use
 * case both run), when the worker has an object store (S3_BUCKET set, as configureBlobStore
 * builds it); without one it does nothing and records no run. Idempotent, and safe with two
 * workers sweeping at once (see sweepOrphanObjects).
 */
export async function runBlobOrphanSweep(
  ctx: MaintenanceContext,
  job: RunJob,
  options: BlobOrphanSweepOptions,
): Promise<JobResult> {
  const objects = blobStore().objects;
  if (!objects) return { skipped: 'no object store (S3_BUCKET is not set)' };
  return recordRun(ctx, JobName.BlobOrphanSweep, job, async (run) => {
    const cutoff = orphanSweepCutoff(options.minAgeHours, options.now);
    const stats = await sweepOrphanObjects(ctx.prisma, objects, cutoff, (p) => void run.progress(p));
    ctx.metrics.examined.inc({ job: JobName.BlobOrphanSweep }, stats.listed);
    ctx.metrics.deleted.inc({ job: JobName.BlobOrphanSweep, table: 's3_objects' }, stats.deleted);
    return stats;
  });
}
