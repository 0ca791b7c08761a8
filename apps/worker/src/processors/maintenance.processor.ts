import type { Config } from '@mailroom/config';
import type { Db } from '@mailroom/db';
import { MailStore } from '@mailroom/mailstore';
import { JobName, type JobProducer } from '@mailroom/queue';
import type { DeliveryAgent } from '../delivery/delivery-agent';
import type { JobHandlers } from '../job-handler';
import { CleanupRepository } from '../maintenance/cleanup.repository';
import type { MaintenanceMetrics } from '../maintenance/job-run';

/** How long history is kept (libs/config). */
export type HistoryAges = Pick<
  Config,
  | 'DELIVERY_EVENT_RETENTION_DAYS'
  | 'WEBHOOK_LOG_RETENTION_DAYS'
  | 'JOB_RUN_RETENTION_DAYS'
  | 'EXPUNGE_LOG_RETENTION_DAYS'
>;

export interface MaintenanceDeps {
  prisma: Db;
  config: HistoryAges;
  /** The delivery sweep runs on this queue: not behind a backlog of send jobs. */
  agent: Pick<DeliveryAgent, 'sweep'>;
  producer: Pick<JobProducer, 'add'>;
  metrics?: MaintenanceMetrics;
}

/** The handlers of the maintenance queue. */
export function maintenanceHandlers(
  deps: MaintenanceDeps,
): Pick<JobHandlers, JobName.CleanupExpired | JobName.CleanupHistory | JobName.DeliverySweep> {
  const cleanup = new CleanupRepository(deps.prisma);
  const store = new MailStore(deps.prisma);
  const count = (table: string, n: number) => {
    deps.metrics?.deleted.inc({ job: JobName.CleanupHistory, table }, n);
    return n;
  };
  // One sweep at a time in this process: with a short interval and a slow database, sweeps
  // piled up, each re-adding the same due rows.
  let sweeping = false;
  return {
    [JobName.CleanupExpired]: async () => {
      const refreshTokens = await cleanup.deleteExpired('refresh_tokens');
      const idempotencyKeys = await cleanup.deleteExpired('idempotency_keys');
      const greylist = await cleanup.deleteExpired('greylist');
      return { refreshTokens, idempotencyKeys, greylist };
    },

    /** Delivery events and finished webhook deliveries past their age, old job runs and expunge-log rows. */
    [JobName.CleanupHistory]: async () => {
      const { config } = deps;
      const deliveryEvents = count(
        'delivery_events',
        await cleanup.deleteDeliveryEventsOlderThan(config.DELIVERY_EVENT_RETENTION_DAYS),
      );
      const webhookDeliveries = count(
        'webhook_deliveries',
        await cleanup.deleteFinishedWebhookDeliveriesOlderThan(config.WEBHOOK_LOG_RETENTION_DAYS),
      );
      const jobRuns = count('job_runs', await cleanup.deleteFinishedJobRunsOlderThan(config.JOB_RUN_RETENTION_DAYS));
      const expungeCutoff = new Date(Date.now() - config.EXPUNGE_LOG_RETENTION_DAYS * 86_400_000);
      const expunges = count('message_expunges', await store.trimExpungeLog(expungeCutoff));
      return { deliveryEvents, webhookDeliveries, jobRuns, expunges };
    },

    [JobName.DeliverySweep]: async () => {
      if (sweeping) return { skipped: 'a sweep is running' };
      sweeping = true;
      try {
        return await sweepDeliveries(deps.agent, deps.producer);
      } finally {
        sweeping = false;
      }
    },
  };
}

/**
 * Queues every due delivery again; ids per attempt, so one Redis still holds is left alone. One
 * never attempted goes to the send queue, a deferred one (or one a dead worker left) to the
 * retry lane.
 */
async function sweepDeliveries(
  agent: Pick<DeliveryAgent, 'sweep'>,
  producer: Pick<JobProducer, 'add'>,
): Promise<{ queued: number }> {
  const due = await agent.sweep();
  for (const d of due) {
    const payload = { tenantId: d.tenantId, deliveryId: d.id, attempt: d.attempts };
    if (d.attempts > 0) await producer.add(JobName.DeliveryRetry, payload);
    else await producer.add(JobName.DeliverySend, payload);
  }
  return { queued: due.length };
}
