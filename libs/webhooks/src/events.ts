import { randomUUID } from 'node:crypto';
import type { Prisma } from '@mailroom/db';

/** Event types a webhook can subscribe to; `*` subscribes to all. */
export const WEBHOOK_EVENTS = [
  'domain.status_changed',
  'delivery.delivered',
  'delivery.deferred',
  'delivery.bounced',
  'delivery.cancelled',
] as const;
export type WebhookEvent = (typeof WEBHOOK_EVENTS)[number];

export interface EventEnvelope {
  id: string;
  type: WebhookEvent;
  tenantId: string;
  createdAt: string;
  data: Record<string, unknown>;
}

/**
 * Records an event for every enabled webhook of the tenant that subscribes to it, in the caller's
 * transaction (so the event exists exactly when the change it reports is committed). Returns the
 * webhook delivery ids to queue after commit; a lost queue entry is found again by the sweeper.
 */
export async function recordEvent(
  tx: Prisma.TransactionClient,
  tenantId: string,
  type: WebhookEvent,
  data: Record<string, unknown>,
): Promise<string[]> {
  const hooks = await tx.webhook.findMany({
    where: { tenantId, enabled: true, OR: [{ events: { has: type } }, { events: { has: '*' } }] },
    select: { id: true },
  });
  if (hooks.length === 0) return [];
  const envelope: EventEnvelope = { id: randomUUID(), type, tenantId, createdAt: new Date().toISOString(), data };
  const rows = hooks.map((h) => ({
    tenantId,
    id: randomUUID(),
    webhookId: h.id,
    event: type,
    payload: envelope as unknown as Prisma.InputJsonValue,
  }));
  await tx.webhookDelivery.createMany({ data: rows });
  return rows.map((r) => r.id);
}
