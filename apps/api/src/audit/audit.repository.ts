import { Injectable } from '@nestjs/common';
import type { AuditLog, JsonValue, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

export interface AuditRow {
  tenantId: string | null;
  resellerId: string | null;
  actorType: 'user' | 'api_key';
  actorId: string;
  actorLabel: string;
  action: string;
  targetType: string;
  targetId: string;
  before: JsonValue | null;
  after: JsonValue | null;
  ip: string;
  requestId: string | undefined;
}

export interface AuditFilter {
  actorId?: string | undefined;
  /** An exact action, or a prefix. */
  action?: { exact: string } | { prefix: string } | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

/** The audit log: written in the caller's transaction, read newest first per tenant. */
@Injectable()
export class AuditRepository {
  async insert(tx: Tx, row: AuditRow): Promise<void> {
    await tx.auditLog.create({
      data: { ...row, before: row.before ?? undefined, after: row.after ?? undefined },
    });
  }

  list(tx: Tx, tenantId: string, filter: AuditFilter, page: PageWindow): Promise<AuditLog[]> {
    const action = filter.action
      ? 'prefix' in filter.action
        ? { startsWith: filter.action.prefix }
        : filter.action.exact
      : undefined;
    return tx.auditLog.findMany({
      where: {
        AND: [
          { tenantId },
          page.where,
          filter.actorId ? { actorId: filter.actorId } : {},
          action ? { action } : {},
          filter.from ? { createdAt: { gte: filter.from } } : {},
          filter.to ? { createdAt: { lt: filter.to } } : {},
        ],
      },
      orderBy: page.orderBy,
      take: page.take,
    });
  }
}
