import type { Job } from 'bullmq';
import type { JobName, JobPayloads } from '@mailroom/queue';

/** What a job did, for its log line and metrics. */
export type JobResult = Record<string, number | string | boolean | undefined>;

export type JobHandler<J extends JobName> = (payload: JobPayloads[J], job: Job<JobPayloads[J]>) => Promise<JobResult>;

/** One handler per job name: the type makes a missing handler a compile error. */
export type JobHandlers = { [J in JobName]: JobHandler<J> };
