import type { Db, JsonValue, Tx, Webhook, WebhookDelivery } from '@mailroom/db';

export type DeliveryWithWebhook = WebhookDelivery & { webhook: Webhook };

export interface AttemptResult {
  statusCode: number | null;
  error: string | null;
  /** Delivered (2xx), failed for good (last attempt), or still pending. */
  status: 'delivered' | 'failed' | 'pending';
  at: Date;
}

/**
 * Webhook deliveries as the event recorder and the sender see them. The worker and the CLI run
 * these as the system role; the API in its tenant-scoped transaction.
 */
export class WebhookDeliveryRepository {
  /** Ids of the tenant's enabled webhooks subscribed to `event` (or to `*`). */
  async subscribers(tx: Tx, tenantId: string, event: string): Promise<string[]> {
    const hooks = await tx.webhook.findMany({
      where: { tenantId, enabled: true, OR: [{ events: { has: event } }, { events: { has: '*' } }] },
      select: { id: true },
    });
    return hooks.map((h) => h.id);
  }

  async addDeliveries(
    tx: Tx,
    tenantId: string,
    rows: { id: string; webhookId: string; event: string; payload: JsonValue }[],
  ): Promise<void> {
    await tx.webhookDelivery.createMany({ data: rows.map((r) => ({ tenantId, ...r })) });
  }

  findDelivery(db: Db | Tx, tenantId: string, id: string): Promise<DeliveryWithWebhook | null> {
    return db.webhookDelivery.findUnique({ where: { tenantId_id: { tenantId, id } }, include: { webhook: true } });
  }

  /** Records one attempt on a pending delivery (compare-and-set: a delivered row stays so). */
  async recordAttempt(db: Db | Tx, tenantId: string, id: string, result: AttemptResult): Promise<void> {
    await db.webhookDelivery.updateMany({
      where: { tenantId, id, status: 'pending' },
      data: {
        attempts: { increment: 1 },
        lastStatusCode: result.statusCode,
        lastError: result.error,
        ...(result.status === 'delivered'
          ? { status: 'delivered', deliveredAt: result.at }
          : result.status === 'failed'
            ? { status: 'failed' }
            : {}),
      },
    });
  }
}
