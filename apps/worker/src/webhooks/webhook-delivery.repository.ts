import type { PrismaClient } from '@mailroom/db';

export interface PendingWebhookDelivery {
  tenantId: string;
  id: string;
}

/** The worker's reads of webhook deliveries, across tenants (the sweep). */
export class WebhookDeliveryRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** Pending deliveries created before `before`, oldest first. */
  async findPendingBefore(before: Date, limit: number): Promise<PendingWebhookDelivery[]> {
    return this.prisma.webhookDelivery.findMany({
      where: { status: 'pending', createdAt: { lt: before } },
      select: { tenantId: true, id: true },
      orderBy: { createdAt: 'asc' },
      take: limit,
    });
  }
}
