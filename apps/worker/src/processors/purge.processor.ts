import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import type { MaintenanceContext } from '../maintenance/job-run';
import { runPurge } from '../maintenance/purge';

export function purgeHandlers(ctx: MaintenanceContext): Pick<JobHandlers, JobName.PurgeDeleted> {
  return {
    [JobName.PurgeDeleted]: (_payload, job) => runPurge(ctx, job),
  };
}
