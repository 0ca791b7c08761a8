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
  Retention = 'retention',
  Purge = 'purge',
  Storage = 'storage',
  Deliveries = 'deliveries',
  /** Retries of deferred deliveries: a lane of their own, never behind a backlog of new mail. */
  DeliveryRetries = 'delivery-retries',
  Messages = 'messages',
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
  /** Deletes old delivery events, webhook delivery logs and job runs (fixed ages, see the processor). */
  CleanupHistory = 'maintenance.cleanup-history',
  /** Deletes mail older than its folder's retention policy, outside legal hold. */
  RetentionRun = 'retention.run',
  /** Purges deleted mailboxes and domains, and deleted tenants past their grace period. */
  PurgeDeleted = 'purge.deleted',
  /** Removes message blobs nothing refers to any more. */
  BlobGc = 'storage.blob-gc',
  /** Deletes S3 objects no blob row refers to (puts whose transaction rolled back); S3 only. */
  BlobOrphanSweep = 'storage.blob-orphan-sweep',
  /** Recomputes each mailbox's used bytes and message count from its messages; repairs drift. */
  QuotaRecount = 'storage.quota-recount',
  /** Delivers one outbound delivery (and the due ones of the same message and domain). */
  DeliverySend = 'deliveries.send',
  /**
   * Retries a deferred delivery (and the due ones of the same message and domain) when it is
   * due. Its own queue and workers, as Postfix keeps its deferred queue beside the incoming one
   * and alternates between them: a delayed BullMQ job that comes due joins the back of its
   * queue, so on the send queue a due retry waited for every new message queued before it.
   */
  DeliveryRetry = 'deliveries.retry',
  /** Queues due deliveries whose job Redis lost, and resets ones stuck after a worker died. */
  DeliverySweep = 'deliveries.sweep',
  /** Parses stored messages still 'pending' (the MTA reads headers only). */
  MessageParse = 'messages.parse-pending',
}

export interface JobPayloads {
  [JobName.CleanupExpired]: Record<string, never>;
  [JobName.DomainCheck]: { tenantId: string; domainId: string };
  [JobName.DomainCheckDue]: Record<string, never>;
  [JobName.WebhookDeliver]: { tenantId: string; webhookDeliveryId: string };
  [JobName.WebhookSweep]: Record<string, never>;
  [JobName.CleanupHistory]: Record<string, never>;
  [JobName.RetentionRun]: Record<string, never>;
  [JobName.PurgeDeleted]: Record<string, never>;
  [JobName.BlobGc]: Record<string, never>;
  [JobName.BlobOrphanSweep]: Record<string, never>;
  [JobName.QuotaRecount]: Record<string, never>;
  /** `attempt`: set on a retry queued after that many attempts (its own job id). */
  [JobName.DeliverySend]: { tenantId: string; deliveryId: string; attempt?: number };
  /** `attempt`: the attempts the delivery had when the retry was queued. */
  [JobName.DeliveryRetry]: { tenantId: string; deliveryId: string; attempt: number };
  [JobName.DeliverySweep]: Record<string, never>;
  [JobName.MessageParse]: Record<string, never>;
}

/** Which queue carries each job. */
export const JOB_QUEUE: { [J in JobName]: QueueName } = {
  [JobName.CleanupExpired]: QueueName.Maintenance,
  [JobName.DomainCheck]: QueueName.Domains,
  [JobName.DomainCheckDue]: QueueName.Domains,
  [JobName.WebhookDeliver]: QueueName.Webhooks,
  [JobName.WebhookSweep]: QueueName.Webhooks,
  [JobName.CleanupHistory]: QueueName.Maintenance,
  [JobName.RetentionRun]: QueueName.Retention,
  [JobName.PurgeDeleted]: QueueName.Purge,
  [JobName.BlobGc]: QueueName.Storage,
  [JobName.BlobOrphanSweep]: QueueName.Storage,
  [JobName.QuotaRecount]: QueueName.Storage,
  [JobName.DeliverySend]: QueueName.Deliveries,
  [JobName.DeliveryRetry]: QueueName.DeliveryRetries,
  // Not behind the send jobs: a sweep queued after a backlog of 10,000 sends runs when they have.
  [JobName.DeliverySweep]: QueueName.Maintenance,
  [JobName.MessageParse]: QueueName.Messages,
};

/** Repeating jobs and how often they run, in milliseconds. */
export const JOB_SCHEDULES: Partial<Record<JobName, number>> = {
  [JobName.CleanupExpired]: 60 * 60 * 1000,
  [JobName.DomainCheckDue]: 60 * 1000,
  [JobName.WebhookSweep]: 60 * 1000,
  [JobName.CleanupHistory]: 24 * 60 * 60 * 1000,
  [JobName.RetentionRun]: 60 * 60 * 1000,
  [JobName.PurgeDeleted]: 5 * 60 * 1000,
  [JobName.BlobGc]: 6 * 60 * 60 * 1000,
  // The worker schedules it every BLOB_SWEEP_INTERVAL_HOURS instead (daily by default).
  [JobName.BlobOrphanSweep]: 24 * 60 * 60 * 1000,
  [JobName.QuotaRecount]: 24 * 60 * 60 * 1000,
  [JobName.DeliverySweep]: 60 * 1000,
  [JobName.MessageParse]: 30 * 1000,
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
  [JobName.DeliverySend]: (p) => `delivery-${p.deliveryId}${p.attempt ? `-${p.attempt}` : ''}`,
  [JobName.DeliveryRetry]: (p) => `delivery-${p.deliveryId}-${p.attempt}`,
};
