import { Injectable } from '@nestjs/common';
import { TenantDb } from '../infra/tenant-db.service';
import {
  DELIVERY_OUTCOMES,
  type DeliveryStatsResponse,
  type MessageStatsResponse,
  type StorageStatsResponse,
} from './stats.dto';
import { StatsRepository } from './stats.repository';

const DAY_MS = 86_400_000;

/** UTC midnight `days - 1` days before today: a window of `days` whole days, today included. */
export function windowStart(days: number, now = new Date()): Date {
  const today = Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate());
  return new Date(today - (days - 1) * DAY_MS);
}

/** The numbers behind the dashboard's charts, each counted in the tenant's own scope. */
@Injectable()
export class StatsService {
  constructor(
    private readonly db: TenantDb,
    private readonly stats: StatsRepository,
  ) {}

  async messages(tenantId: string, days: number): Promise<MessageStatsResponse> {
    const from = windowStart(days);
    const [inbound, outbound] = await this.db.tenantRead(tenantId, async (tx) => [
      await this.stats.messagesInPerDay(tx, tenantId, from),
      await this.stats.messagesOutPerDay(tx, tenantId, from),
    ]);
    const byDay = (rows: { day: string; count: number }[]) => new Map(rows.map((r) => [r.day, r.count]));
    const ins = byDay(inbound);
    const outs = byDay(outbound);
    return {
      from: from.toISOString(),
      days: Array.from({ length: days }, (_, i) => {
        const date = new Date(from.getTime() + i * DAY_MS).toISOString().slice(0, 10);
        return { date, in: ins.get(date) ?? 0, out: outs.get(date) ?? 0 };
      }),
    };
  }

  async deliveries(tenantId: string, days: number): Promise<DeliveryStatsResponse> {
    const from = windowStart(days);
    const counts = await this.db.tenantRead(tenantId, (tx) => this.stats.deliveriesByStatus(tx, tenantId, from));
    const outcomes = DELIVERY_OUTCOMES.map((status) => ({ status, count: counts.get(status) ?? 0 }));
    return { from: from.toISOString(), total: outcomes.reduce((sum, o) => sum + o.count, 0), outcomes };
  }

  async storage(tenantId: string, limit: number): Promise<StorageStatsResponse> {
    const { largest, total } = await this.db.tenantRead(tenantId, async (tx) => ({
      largest: await this.stats.largestMailboxes(tx, tenantId, limit),
      total: await this.stats.storageTotal(tx, tenantId),
    }));
    const listed = largest.reduce((sum, m) => sum + m.usedBytes, 0n);
    return {
      totalBytes: Number(total.bytes),
      mailboxCount: total.mailboxes,
      mailboxes: largest.map((m) => ({
        id: m.id,
        address: m.address,
        usedBytes: Number(m.usedBytes),
        quotaBytes: Number(m.quotaBytes),
      })),
      otherBytes: Number(total.bytes - listed),
    };
  }
}
