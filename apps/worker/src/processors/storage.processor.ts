import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import { runBlobGc } from '../maintenance/blob-gc';
import type { MaintenanceContext } from '../maintenance/job-run';
import { runQuotaRecount } from '../maintenance/quota';

export function storageHandlers(ctx: MaintenanceContext): Pick<JobHandlers, JobName.BlobGc | JobName.QuotaRecount> {
  return {
    [JobName.BlobGc]: (_payload, job) => runBlobGc(ctx, job),
    [JobName.QuotaRecount]: (_payload, job) => runQuotaRecount(ctx, job),
  };
}
