import { Injectable } from '@nestjs/common';
import { NotFound, Unavailable } from '@mailroom/core';
import { JOB_SCHEDULES, type JobName } from '@mailroom/queue';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { QueueService } from '../infra/queue.service';
import { TenantDb } from '../infra/tenant-db.service';

/**
 * Platform admins run a scheduled job now. Only scheduled jobs (they take no payload and are
 * idempotent, batched and safe to overlap), never the per-row jobs such as a delivery.
 */
@Injectable()
export class AdminJobsService {
  constructor(
    private readonly queue: QueueService,
    private readonly db: TenantDb,
    private readonly audit: AuditService,
  ) {}

  async run(call: CallContext, jobName: string) {
    if (!Object.keys(JOB_SCHEDULES).includes(jobName)) {
      throw new NotFound(`No scheduled job ${jobName}; one of ${Object.keys(JOB_SCHEDULES).sort().join(', ')}.`);
    }
    const name = jobName as JobName;
    if (!(await this.queue.tryAdd(name, {} as never))) {
      throw new Unavailable('The job queue is unavailable; the job runs on its schedule once it is back.');
    }
    const requestedAt = new Date().toISOString();
    await this.db.platform((tx) =>
      this.audit.record(tx, call, {
        tenantId: null,
        action: 'job.run',
        targetType: 'job',
        targetId: name,
        after: { requestedAt },
      }),
    );
    return { job: name, queued: true as const, requestedAt };
  }
}
