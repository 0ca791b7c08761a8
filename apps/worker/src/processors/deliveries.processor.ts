import type { PrismaClient } from '@mailroom/db';
import { MailStore } from '@mailroom/mailstore';
import { JobName, type JobProducer } from '@mailroom/queue';
import type { DeliveryAgent } from '../delivery/delivery-agent';
import type { JobHandlers } from '../job-handler';
import { parsePendingMessages } from './parse.processor';

export function deliveryHandlers(
  prisma: PrismaClient,
  agent: DeliveryAgent,
  producer: JobProducer,
): Pick<JobHandlers, JobName.DeliverySend | JobName.DeliverySweep | JobName.MessageParse> {
  // One sweep at a time in this process: with a short interval and a slow database, sweeps
  // piled up, each re-adding the same due rows.
  let sweeping = false;
  return {
    [JobName.DeliverySend]: async (payload) => {
      const result = await agent.deliver(payload);
      if (!result) return { skipped: true };
      // The outcome is committed: from here on a failure must not run this job again (it would
      // send a deferred delivery early). What Redis does not take now, the sweeps queue later.
      for (const id of result.webhookDeliveryIds) {
        await producer
          .add(JobName.WebhookDeliver, { tenantId: payload.tenantId, webhookDeliveryId: id })
          .catch(() => undefined);
      }
      // Each deferred one comes back as a delayed job when its next attempt is due (its own id
      // per attempt, so the sweep re-adding it is a no-op); if Redis loses it, the sweep finds it.
      let retriesQueued = 0;
      for (const retry of result.retries) {
        try {
          await producer.add(
            JobName.DeliverySend,
            { tenantId: payload.tenantId, deliveryId: retry.deliveryId, attempt: retry.attempt },
            { delay: Math.max(0, retry.at.getTime() - Date.now()) },
          );
          retriesQueued++;
        } catch {
          // The delivery sweep finds it when it is due.
        }
      }
      return {
        retriesQueued,
        claimed: result.claimed,
        delivered: result.delivered,
        deferred: result.deferred,
        bounced: result.bounced,
      };
    },

    [JobName.DeliverySweep]: async () => {
      if (sweeping) return { skipped: 'a sweep is running' };
      sweeping = true;
      try {
        return await sweepDeliveries(agent, producer);
      } finally {
        sweeping = false;
      }
    },

    [JobName.MessageParse]: async () => parsePendingMessages(new MailStore(prisma)),
  };
}

/** Queues every due delivery again; ids per attempt, so one Redis still holds is left alone. */
async function sweepDeliveries(agent: DeliveryAgent, producer: JobProducer): Promise<{ queued: number }> {
  const due = await agent.sweep();
  for (const d of due) {
    await producer.add(JobName.DeliverySend, { tenantId: d.tenantId, deliveryId: d.id, attempt: d.attempts });
  }
  return { queued: due.length };
}
