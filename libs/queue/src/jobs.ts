/**
 * Every queue and job of the platform, with its payload. Jobs carry ids only; the worker loads
 * the rows from PostgreSQL, the source of truth.
 *
 * Renaming a queue or a job strands the jobs already in Redis under the old name: add the new
 * name, drain the old one, then remove it.
 */
export enum QueueName {
  Maintenance = 'maintenance',
}

export enum JobName {
  /** Deletes expired refresh tokens, idempotency keys and greylist entries. */
  CleanupExpired = 'maintenance.cleanup-expired',
}

export interface JobPayloads {
  [JobName.CleanupExpired]: Record<string, never>;
}

/** Which queue carries each job. */
export const JOB_QUEUE: { [J in JobName]: QueueName } = {
  [JobName.CleanupExpired]: QueueName.Maintenance,
};

/** Repeating jobs and how often they run, in milliseconds. */
export const JOB_SCHEDULES: Partial<Record<JobName, number>> = {
  [JobName.CleanupExpired]: 60 * 60 * 1000,
};
