import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import { runBlobGc } from '../maintenance/blob-gc';
import type { MaintenanceContext } from '../maintenance/job-run';
import { runQuotaRecount } from '../maintenance/quota';

/** The handlers of the storage queue; `blobGc.graceMs` from BLOB_GC_GRACE_MINUTES. */
export function storageHandlers(
  ctx: MaintenanceContext,
  blobGc: { graceMs: number },
): Pick<JobHandlers, JobName.BlobGc | JobName.QuotaRecount> {
  return {
    [JobName.BlobGc]: (_payload, job) => runBlobGc(ctx, job, { graceMs: blobGc.graceMs }),
    [JobName.QuotaRecount]: (_payload, job) => runQuotaRecount(ctx, job),
  };
}
