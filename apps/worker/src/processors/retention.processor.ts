import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import type { MaintenanceContext } from '../maintenance/job-run';
import { runRetention } from '../maintenance/retention';

export function retentionHandlers(ctx: MaintenanceContext): Pick<JobHandlers, JobName.RetentionRun> {
  return {
    [JobName.RetentionRun]: (_payload, job) => runRetention(ctx, job),
  };
}
