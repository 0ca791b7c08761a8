import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import { runBlobGc } from '../maintenance/blob-gc';
import { runBlobOrphanSweep } from '../maintenance/blob-orphan-sweep';
import type { MaintenanceContext } from '../maintenance/job-run';
import { runQuotaRecount } from '../maintenance/quota';

/**
 * The handlers of the storage queue; `blobGc.graceMs` from BLOB_GC_GRACE_MINUTES,
 * `orphanSweep.minAgeHours` from BLOB_SWEEP_MIN_AGE_HOURS.
 */
export function storageHandlers(
  ctx: MaintenanceContext,
  blobGc: { graceMs: number },
  orphanSweep: { minAgeHours: number },
): Pick<JobHandlers, JobName.BlobGc | JobName.BlobOrphanSweep | JobName.QuotaRecount> {
  return {
    [JobName.BlobGc]: (_payload, job) => runBlobGc(ctx, job, { graceMs: blobGc.graceMs }),
    [JobName.BlobOrphanSweep]: (_payload, job) =>
      runBlobOrphanSweep(ctx, job, { minAgeHours: orphanSweep.minAgeHours }),
    [JobName.QuotaRecount]: (_payload, job) => runQuotaRecount(ctx, job),
  };
}
