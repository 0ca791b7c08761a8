import { Injectable } from '@nestjs/common';
import type { DeliveryStatus, Tx } from '@mailroom/db';

export interface DayCount {
  day: string;
  count: number;
}

export interface MailboxStorage {
  id: string;
  address: string;
  usedBytes: bigint;
  quotaBytes: bigint;
}

/**
 * Counts for the dashboard's pictures. Each runs in the tenant's scope (row-level security)
 * and names the tenant too, so the query plans use the (tenant_id, ...) indexes.
 */
@Injectable()
export class StatsRepository {
  /** Messages stored per UTC day since `since`, copies in Sent folders left out. */
  async messagesInPerDay(tx: Tx, tenantId: string, since: Date): Promise<DayCount[]> {
    const rows = await tx.$queryRaw<{ day: string; count: bigint }[]>`
      SELECT to_char(m.received_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS count
      FROM messages m
      JOIN folders f ON f.tenant_id = m.tenant_id AND f.id = m.folder_id
      WHERE m.tenant_id = ${tenantId}::uuid AND m.received_at >= ${since} AND f.kind <> 'sent'
      GROUP BY 1`;
    return rows.map((r) => ({ day: r.day, count: Number(r.count) }));
  }

  /** Outbound messages created per UTC day since `since`. */
  async messagesOutPerDay(tx: Tx, tenantId: string, since: Date): Promise<DayCount[]> {
    const rows = await tx.$queryRaw<{ day: string; count: bigint }[]>`
      SELECT to_char(created_at AT TIME ZONE 'UTC', 'YYYY-MM-DD') AS day, count(*) AS count
      FROM outbound_messages
      WHERE tenant_id = ${tenantId}::uuid AND created_at >= ${since}
      GROUP BY 1`;
    return rows.map((r) => ({ day: r.day, count: Number(r.count) }));
  }

  /** Deliveries created since `since`, counted by their status now. */
  async deliveriesByStatus(tx: Tx, tenantId: string, since: Date): Promise<Map<DeliveryStatus, number>> {
    const rows = await tx.delivery.groupBy({
      by: ['status'],
      where: { tenantId, createdAt: { gte: since } },
      _count: { _all: true },
    });
    return new Map(rows.map((r) => [r.status, r._count._all]));
  }

  /** The `limit` mailboxes that store the most, largest first (deleted ones left out). */
  async largestMailboxes(tx: Tx, tenantId: string, limit: number): Promise<MailboxStorage[]> {
    const rows = await tx.mailbox.findMany({
      where: { tenantId, status: { not: 'deleted' } },
      select: { id: true, localPart: true, usedBytes: true, quotaBytes: true, domain: { select: { name: true } } },
      orderBy: [{ usedBytes: 'desc' }, { id: 'asc' }],
      take: limit,
    });
    return rows.map((r) => ({
      id: r.id,
      address: `${r.localPart}@${r.domain.name}`,
      usedBytes: r.usedBytes,
      quotaBytes: r.quotaBytes,
    }));
  }

  /** What every mailbox of the tenant stores, and how many there are (deleted ones left out). */
  async storageTotal(tx: Tx, tenantId: string): Promise<{ bytes: bigint; mailboxes: number }> {
    const total = await tx.mailbox.aggregate({
      where: { tenantId, status: { not: 'deleted' } },
      _sum: { usedBytes: true },
      _count: { _all: true },
    });
    return { bytes: total._sum.usedBytes ?? 0n, mailboxes: total._count._all };
  }
}
