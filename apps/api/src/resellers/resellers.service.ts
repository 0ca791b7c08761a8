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
import { ResellerRepository } from './reseller.repository';

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
    private readonly resellers: ResellerRepository,
  ) {}

  async list(p: Principal, query: ListQuery): Promise<Page<ResellerResponse>> {
    const onlyId = p.platform ? null : (p.resellerId ?? '00000000-0000-0000-0000-000000000000');
    const page = keyset(parseSort(query.sort, ['name', 'createdAt'] as const, 'name'), query.cursor, query.limit);
    const rows = await this.db.platform((tx) => this.resellers.list(tx, onlyId, page));
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentReseller), nextCursor };
  }

  /** A reseller the principal may see: platform admins see all, a reseller only itself. */
  async load(p: Principal, id: string): Promise<Reseller> {
    const visible = p.platform || (p.resellerId === id && p.tenantId === null);
    const row =
      visible && /^[0-9a-f-]{36}$/i.test(id) ? await this.db.platform((tx) => this.resellers.find(tx, id)) : null;
    if (!row) throw new NotFound(`Reseller ${id} not found.`);
    return row;
  }

  async create(call: CallContext, dto: CreateResellerDto): Promise<ResellerResponse> {
    const row = await this.db.platform(async (tx) => {
      const created = await this.resellers.create(tx, { name: dto.name, maxTenants: dto.maxTenants ?? null });
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
      const after = await this.resellers.update(tx, before.id, dto);
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
