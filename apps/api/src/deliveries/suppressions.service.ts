import { Injectable } from '@nestjs/common';
import { Conflict, NotFound } from '@mailroom/core';
import type { Suppression } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb } from '../infra/tenant-db.service';
import type { CreateSuppressionDto, ListSuppressionsQuery, SuppressionResponse } from './delivery.dto';
import { DeliveryRepository } from './delivery.repository';

const present = (s: Suppression): SuppressionResponse => ({
  id: s.id,
  address: s.address,
  reason: s.reason,
  detail: s.detail,
  createdAt: s.createdAt.toISOString(),
});

/** Addresses the tenant will not send to: hard bounces, complaints, and manual entries. */
@Injectable()
export class SuppressionsService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly deliveries: DeliveryRepository,
  ) {}

  async list(tenantId: string, q: ListSuppressionsQuery): Promise<Page<SuppressionResponse>> {
    const page = keyset(parseSort('-createdAt', ['createdAt'] as const, '-createdAt'), q.cursor, q.limit);
    const rows = await this.db.tenantRead(tenantId, (tx) =>
      this.deliveries.listSuppressions(tx, tenantId, q.q?.toLowerCase(), page),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(present), nextCursor };
  }

  async add(call: CallContext, tenantId: string, dto: CreateSuppressionDto): Promise<SuppressionResponse> {
    return this.db.tenant(tenantId, async (tx) => {
      const existing = await this.deliveries.findSuppression(tx, tenantId, { address: dto.address });
      if (existing) throw new Conflict(`${dto.address} is already suppressed (${existing.reason}).`);
      const row = await this.deliveries.addSuppression(tx, tenantId, dto.address, dto.detail ?? null);
      await this.audit.record(tx, call, {
        tenantId,
        action: 'suppression.create',
        targetType: 'suppression',
        targetId: row.id,
        after: present(row),
      });
      return present(row);
    });
  }

  async remove(call: CallContext, tenantId: string, id: string): Promise<void> {
    await this.db.tenant(tenantId, async (tx) => {
      const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.deliveries.findSuppression(tx, tenantId, { id }) : null;
      if (!row) throw new NotFound(`Suppression ${id} not found.`);
      await this.deliveries.removeSuppression(tx, tenantId, id);
      await this.audit.record(tx, call, {
        tenantId,
        action: 'suppression.delete',
        targetType: 'suppression',
        targetId: id,
        before: present(row),
      });
    });
  }
}
