import type { Config } from '@mailroom/config';
import type { Db } from '@mailroom/db';
import { JobName, type JobProducer } from '@mailroom/queue';
import { deliverWebhook } from '@mailroom/webhooks';
import type { JobHandlers } from '../job-handler';
import { WebhookDeliveryRepository } from '../webhooks/webhook-delivery.repository';

export function webhookHandlers(
  prisma: Db,
  config: Config,
  producer: JobProducer,
): Pick<JobHandlers, JobName.WebhookDeliver | JobName.WebhookSweep> {
  const deliveries = new WebhookDeliveryRepository(prisma);
  return {
    [JobName.WebhookDeliver]: async (payload, job) => {
      const finalAttempt = job.attemptsMade + 1 >= (job.opts.attempts ?? 1);
      // Private and loopback targets only outside production (development sinks, tests).
      const allowPrivate = config.NODE_ENV !== 'production';
      const outcome = await deliverWebhook(prisma, config.MASTER_KEY, payload, { finalAttempt, allowPrivate });
      return { outcome };
    },

    /** PostgreSQL holds every pending event: queue again those whose job Redis lost. */
    [JobName.WebhookSweep]: async () => {
      const pending = await deliveries.findPendingBefore(new Date(Date.now() - 60_000), 1_000);
      for (const p of pending) {
        await producer.add(JobName.WebhookDeliver, { tenantId: p.tenantId, webhookDeliveryId: p.id });
      }
      return { requeued: pending.length };
    },
  };
}
