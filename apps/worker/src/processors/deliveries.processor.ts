import { JobName, type JobPayloads, type JobProducer } from '@mailroom/queue';
import type { DeliveryAgent } from '../delivery/delivery-agent';
import type { JobHandlers, JobResult } from '../job-handler';

/** The handlers of the deliveries queue and the retry lane (their sweep runs on the maintenance queue). */
export function deliveryHandlers(
  agent: DeliveryAgent,
  producer: JobProducer,
): Pick<JobHandlers, JobName.DeliverySend | JobName.DeliveryRetry> {
  const send = async (payload: JobPayloads[JobName.DeliverySend]): Promise<JobResult> => {
    const result = await agent.deliver(payload);
    if (!result) return { skipped: true };
    // The outcome is committed: from here on a failure must not run this job again (it would
    // send a deferred delivery early). What Redis does not take now, the sweeps queue later.
    for (const id of result.webhookDeliveryIds) {
      await producer
        .add(JobName.WebhookDeliver, { tenantId: payload.tenantId, webhookDeliveryId: id })
        .catch(() => undefined);
    }
    // DSNs to remote senders (a forward bounced): new deliveries of their own.
    for (const deliveryId of result.queued) {
      await producer.add(JobName.DeliverySend, { tenantId: payload.tenantId, deliveryId }).catch(() => undefined);
    }
    // Each deferred one comes back as a delayed job on the retry lane when its next attempt is
    // due (its own id per attempt, so the sweep re-adding it is a no-op); if Redis loses it,
    // the sweep finds it.
    let retriesQueued = 0;
    for (const retry of result.retries) {
      try {
        await producer.add(
          JobName.DeliveryRetry,
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
  };
  // A retry is the same work as a send; only its queue differs.
  return { [JobName.DeliverySend]: send, [JobName.DeliveryRetry]: send };
}
