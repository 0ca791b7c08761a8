import { Injectable } from '@nestjs/common';
import type { JobRun, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

/** The worker's job_runs rows as a tenant sees them. */
@Injectable()
export class RetentionRunRepository {
  /** The tenant's rows of job `name`. */
  list(tx: Tx, tenantId: string, name: string, page: PageWindow): Promise<JobRun[]> {
    return tx.jobRun.findMany({
      where: { AND: [{ tenantId, name }, page.where] },
      orderBy: page.orderBy,
      take: page.take,
    });
  }
}
