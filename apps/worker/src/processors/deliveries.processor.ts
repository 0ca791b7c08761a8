import type { PrismaClient } from '@mailroom/db';
import { JobName, type JobProducer } from '@mailroom/queue';
import type { DeliveryAgent } from '../delivery/delivery-agent';
import type { JobHandlers } from '../job-handler';
import { parsePendingMessages } from './parse.processor';

export function deliveryHandlers(
  prisma: PrismaClient,
  agent: DeliveryAgent,
  producer: JobProducer,
): Pick<JobHandlers, JobName.DeliverySend | JobName.DeliverySweep | JobName.MessageParse> {
  return {
    [JobName.DeliverySend]: async (payload) => {
      const result = await agent.deliver(payload);
      if (!result) return { skipped: true };
      for (const id of result.webhookDeliveryIds) {
        await producer.add(JobName.WebhookDeliver, { tenantId: payload.tenantId, webhookDeliveryId: id });
      }
      // Deferred ones come back through the sweep when their next attempt is due.
      return {
        claimed: result.claimed,
        delivered: result.delivered,
        deferred: result.deferred,
        bounced: result.bounced,
      };
    },

    [JobName.DeliverySweep]: async () => {
      const due = await agent.sweep();
      for (const d of due) await producer.add(JobName.DeliverySend, { tenantId: d.tenantId, deliveryId: d.id });
      return { queued: due.length };
    },

    [JobName.MessageParse]: async () => parsePendingMessages(prisma),
  };
}
