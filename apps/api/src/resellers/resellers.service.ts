import { Injectable } from '@nestjs/common';
import { NotFound } from '@mailroom/core';
import type { Reseller } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import type { Principal } from '../auth/principal';
import type { CallContext } from '../auth/request-context';
import type { ListQuery } from '../common/list-query.dto';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb } from '../infra/tenant-db.service';
import type { CreateResellerDto, ResellerResponse, UpdateResellerDto } from './reseller.dto';

export function presentReseller(r: Reseller): ResellerResponse {
  return {
    id: r.id,
    name: r.name,
    status: r.status,
    maxTenants: r.maxTenants,
    createdAt: r.createdAt.toISOString(),
    updatedAt: r.updatedAt.toISOString(),
  };
}

@Injectable()
export class ResellersService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
  ) {}

  async list(p: Principal, query: ListQuery): Promise<Page<ResellerResponse>> {
    const where = p.platform ? {} : { id: p.resellerId ?? '00000000-0000-0000-0000-000000000000' };
    const page = keyset(parseSort(query.sort, ['name', 'createdAt'] as const, 'name'), query.cursor, query.limit);
    const rows = await this.db.platform((tx) =>
      tx.reseller.findMany({ where: { AND: [where, page.where] }, orderBy: page.orderBy, take: page.take }),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentReseller), nextCursor };
  }

  /** A reseller the principal may see: platform admins see all, a reseller only itself. */
  async load(p: Principal, id: string): Promise<Reseller> {
    const visible = p.platform || (p.resellerId === id && p.tenantId === null);
    const row =
      visible && /^[0-9a-f-]{36}$/i.test(id)
        ? await this.db.platform((tx) => tx.reseller.findUnique({ where: { id } }))
        : null;
    if (!row) throw new NotFound(`Reseller ${id} not found.`);
    return row;
  }

  async create(call: CallContext, dto: CreateResellerDto): Promise<ResellerResponse> {
    const row = await this.db.platform(async (tx) => {
      const created = await tx.reseller.create({ data: { name: dto.name, maxTenants: dto.maxTenants ?? null } });
      await this.audit.record(tx, call, {
        tenantId: null,
        action: 'reseller.create',
        targetType: 'reseller',
        targetId: created.id,
        after: created,
      });
      return created;
    });
    return presentReseller(row);
  }

  async update(call: CallContext, before: Reseller, dto: UpdateResellerDto): Promise<ResellerResponse> {
    const row = await this.db.platform(async (tx) => {
      const after = await tx.reseller.update({ where: { id: before.id }, data: dto });
      await this.audit.record(tx, call, {
        tenantId: null,
        action: 'reseller.update',
        targetType: 'reseller',
        targetId: before.id,
        before,
        after,
      });
      return after;
    });
    return presentReseller(row);
  }
}
