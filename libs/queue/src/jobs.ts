/**
 * Every queue and job of the platform, with its payload. Jobs carry ids only; the worker loads
 * the rows from PostgreSQL, the source of truth.
 *
 * Renaming a queue or a job strands the jobs already in Redis under the old name: add the new
 * name, drain the old one, then remove it.
 */
export enum QueueName {
  Maintenance = 'maintenance',
  Domains = 'domains',
  Webhooks = 'webhooks',
}

export enum JobName {
  /** Deletes expired refresh tokens, idempotency keys and greylist entries. */
  CleanupExpired = 'maintenance.cleanup-expired',
  /** Checks one domain's DNS plan and moves it along its lifecycle. */
  DomainCheck = 'domains.check',
  /** Queues a check for every domain whose next check is due (the periodic re-check). */
  DomainCheckDue = 'domains.check-due',
  /** Sends one recorded event to one webhook. */
  WebhookDeliver = 'webhooks.deliver',
  /** Queues again pending webhook deliveries whose job was lost (Redis flushed). */
  WebhookSweep = 'webhooks.sweep',
}

export interface JobPayloads {
  [JobName.CleanupExpired]: Record<string, never>;
  [JobName.DomainCheck]: { tenantId: string; domainId: string };
  [JobName.DomainCheckDue]: Record<string, never>;
  [JobName.WebhookDeliver]: { tenantId: string; webhookDeliveryId: string };
  [JobName.WebhookSweep]: Record<string, never>;
}

/** Which queue carries each job. */
export const JOB_QUEUE: { [J in JobName]: QueueName } = {
  [JobName.CleanupExpired]: QueueName.Maintenance,
  [JobName.DomainCheck]: QueueName.Domains,
  [JobName.DomainCheckDue]: QueueName.Domains,
  [JobName.WebhookDeliver]: QueueName.Webhooks,
  [JobName.WebhookSweep]: QueueName.Webhooks,
};

/** Repeating jobs and how often they run, in milliseconds. */
export const JOB_SCHEDULES: Partial<Record<JobName, number>> = {
  [JobName.CleanupExpired]: 60 * 60 * 1000,
  [JobName.DomainCheckDue]: 60 * 1000,
  [JobName.WebhookSweep]: 60 * 1000,
};

/**
 * The job id of a job: the row it is about, so queueing the same work twice is a no-op while
 * the first job exists (BullMQ ignores an add with a known id). BullMQ forbids ':' in custom
 * ids, hence the dashes.
 */
export function jobIdFor<J extends JobName>(name: J, payload: JobPayloads[J]): string | undefined {
  return (JOB_IDS[name] as ((p: JobPayloads[J]) => string) | undefined)?.(payload);
}

/** Jobs about one row get that row's id; scheduled sweeps get BullMQ's own ids. */
const JOB_IDS: { [J in JobName]?: (payload: JobPayloads[J]) => string } = {
  [JobName.DomainCheck]: (p) => `domain-check-${p.domainId}`,
  [JobName.WebhookDeliver]: (p) => `webhook-${p.webhookDeliveryId}`,
};
