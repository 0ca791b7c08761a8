import { randomUUID } from 'node:crypto';
import type { JsonValue, Tx } from '@mailroom/db';
import { WebhookDeliveryRepository } from './webhook.repository';

const webhookRepository = new WebhookDeliveryRepository();

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
  tx: Tx,
  tenantId: string,
  type: WebhookEvent,
  data: Record<string, unknown>,
): Promise<string[]> {
  const hooks = await webhookRepository.subscribers(tx, tenantId, type);
  if (hooks.length === 0) return [];
  const envelope: EventEnvelope = { id: randomUUID(), type, tenantId, createdAt: new Date().toISOString(), data };
  const rows = hooks.map((webhookId) => ({
    id: randomUUID(),
    webhookId,
    event: type,
    payload: envelope as unknown as JsonValue,
  }));
  await webhookRepository.addDeliveries(tx, tenantId, rows);
  return rows.map((r) => r.id);
}
