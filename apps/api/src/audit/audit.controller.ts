import { Controller, Get, Param, Query } from '@nestjs/common';
import { ApiOkResponse, ApiTags, ApiOperation } from '@nestjs/swagger';
import type { Tenant } from '@mailroom/db';
import { Authenticated } from '../auth/authenticated.decorator';
import { CurrentTenant } from '../auth/request-context';
import { keyset, parseSort } from '../common/pagination';
import { TenantDb } from '../infra/tenant-db.service';
import { AuditPage, ListAuditQuery } from './audit.dto';

@ApiTags('audit-log')
@Controller('v1/tenants/:tenantId/audit-log')
export class AuditController {
  constructor(private readonly db: TenantDb) {}

  @ApiOperation({ summary: "List a tenant's audit log" })
  @Get()
  @Authenticated({ scope: 'audit-log:read' })
  @ApiOkResponse({ type: AuditPage, description: 'Newest first' })
  async list(@CurrentTenant() tenant: Tenant, @Param('tenantId') _id: string, @Query() q: ListAuditQuery) {
    const page = keyset(parseSort('-createdAt', ['createdAt'], '-createdAt'), q.cursor, q.limit);
    const action = q.action?.endsWith('*') ? { startsWith: q.action.slice(0, -1) } : q.action;
    const rows = await this.db.tenant(tenant.id, (tx) =>
      tx.auditLog.findMany({
        where: {
          AND: [
            { tenantId: tenant.id },
            page.where,
            q.actor ? { actorId: q.actor } : {},
            action ? { action } : {},
            q.from ? { createdAt: { gte: new Date(q.from) } } : {},
            q.to ? { createdAt: { lt: new Date(q.to) } } : {},
          ],
        },
        orderBy: page.orderBy,
        take: page.take,
      }),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map((e) => ({ ...e, createdAt: e.createdAt.toISOString() })), nextCursor };
  }
}
