import { Injectable } from '@nestjs/common';
import type { Tx, Webhook, WebhookDelivery, WebhookDeliveryStatus } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

export interface NewWebhook {
  id: string;
  url: string;
  events: string[];
  enabled: boolean;
  secretEncrypted: string;
}

export interface WebhookChange {
  url?: string | undefined;
  events?: string[] | undefined;
  enabled?: boolean | undefined;
}

/** The tenant's webhooks and their deliveries. */
@Injectable()
export class WebhookRepository {
  list(tx: Tx, tenantId: string, page: PageWindow): Promise<Webhook[]> {
    return tx.webhook.findMany({ where: { AND: [{ tenantId }, page.where] }, orderBy: page.orderBy, take: page.take });
  }

  find(tx: Tx, tenantId: string, id: string): Promise<Webhook | null> {
    return tx.webhook.findFirst({ where: { tenantId, id } });
  }

  create(tx: Tx, tenantId: string, hook: NewWebhook): Promise<Webhook> {
    return tx.webhook.create({ data: { tenantId, ...hook } });
  }

  update(tx: Tx, tenantId: string, id: string, change: WebhookChange): Promise<Webhook> {
    return tx.webhook.update({ where: { tenantId_id: { tenantId, id } }, data: change });
  }

  async remove(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.webhook.delete({ where: { tenantId_id: { tenantId, id } } });
  }

  deliveries(
    tx: Tx,
    tenantId: string,
    webhookId: string,
    status: WebhookDeliveryStatus | undefined,
    page: PageWindow,
  ): Promise<WebhookDelivery[]> {
    return tx.webhookDelivery.findMany({
      where: { AND: [{ tenantId, webhookId }, page.where, status ? { status } : {}] },
      orderBy: page.orderBy,
      take: page.take,
    });
  }
}
