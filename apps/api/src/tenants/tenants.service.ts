import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { Conflict, Forbidden, LimitExceeded, NotFound } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import { managesTenants } from '../auth/principal';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb } from '../infra/tenant-db.service';
import { CONFIG } from '../infra/tokens';
import type { CreateTenantDto, ListTenantsQuery, TenantResponse, UpdateTenantDto } from './tenant.dto';
import { TenantRepository, type TenantVisibility } from './tenant.repository';

export type TenantView = TenantResponse;
type Usage = NonNullable<TenantView['usage']>;

export function presentTenant(t: Tenant, usage?: Usage): TenantView {
  return {
    id: t.id,
    resellerId: t.resellerId,
    name: t.name,
    status: t.status,
    statusReason: t.statusReason,
    limits: { maxDomains: t.maxDomains, maxMailboxes: t.maxMailboxes, storageQuotaBytes: Number(t.storageQuotaBytes) },
    smtputf8Enabled: t.smtputf8Enabled,
    legalHold: t.legalHold,
    deletedAt: t.deletedAt?.toISOString() ?? null,
    purgeAfter: t.purgeAfter?.toISOString() ?? null,
    createdAt: t.createdAt.toISOString(),
    updatedAt: t.updatedAt.toISOString(),
    ...(usage ? { usage } : {}),
  };
}

const SORTABLE = ['createdAt', 'name'] as const;
const USAGE_CONCURRENCY = 4;

/** `work` over `items`, at most `limit` at once, results in the items' order. */
async function mapLimited<T, R>(items: T[], limit: number, work: (item: T) => Promise<R>): Promise<R[]> {
  const results: R[] = new Array<R>(items.length);
  let next = 0;
  const lane = async () => {
    while (next < items.length) {
      const i = next++;
      results[i] = await work(items[i]!);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, lane));
  return results;
}

/** The columns a create or an update sets from its body; omitted fields stay as they are. */
function tenantFields(dto: UpdateTenantDto) {
  return {
    name: dto.name,
    smtputf8Enabled: dto.smtputf8Enabled,
    maxDomains: dto.limits?.maxDomains,
    maxMailboxes: dto.limits?.maxMailboxes,
    storageQuotaBytes: dto.limits?.storageQuotaBytes === undefined ? undefined : BigInt(dto.limits.storageQuotaBytes),
  };
}

@Injectable()
export class TenantsService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly tenants: TenantRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async list(call: CallContext, query: ListTenantsQuery): Promise<Page<TenantView>> {
    const p = call.principal;
    const sort = parseSort(query.sort, SORTABLE, '-createdAt');
    const page = keyset(sort, query.cursor, query.limit);
    const visible: TenantVisibility = p.platform
      ? query.resellerId
        ? { resellerId: query.resellerId }
        : { all: true }
      : p.tenantId !== null
        ? { tenantId: p.tenantId }
        : { resellerId: p.resellerId ?? '00000000-0000-0000-0000-000000000000' };
    const rows = await this.db.platform((tx) =>
      this.tenants.list(tx, visible, { status: query.status, name: query.q }, page),
    );
    const { rows: items, nextCursor } = page.page(rows);
    if (query.include !== 'usage') return { items: items.map((t) => presentTenant(t)), nextCursor };
    // Each tenant counted in its own row-level security scope, a few at a time (a page is at
    // most 200 tenants; one scope per tenant keeps the isolation the single GET has).
    const usages = await mapLimited(items, USAGE_CONCURRENCY, (t) => this.usage(t.id));
    return { items: items.map((t, i) => presentTenant(t, usages[i])), nextCursor };
  }

  async get(tenant: Tenant): Promise<TenantView> {
    return presentTenant(tenant, await this.usage(tenant.id));
  }

  /** What a tenant uses now, counted under the tenant's own row-level security scope. */
  async usage(tenantId: string): Promise<Usage> {
    const since = new Date(Date.now() - 86_400_000);
    const u = await this.db.tenant(tenantId, (tx) => this.tenants.usage(tx, tenantId, since));
    return {
      domains: u.domains,
      mailboxes: u.mailboxes,
      storageBytes: Number(u.storageBytes),
      messagesIn24h: u.messagesIn,
      messagesOut24h: u.messagesOut,
    };
  }

  async create(call: CallContext, dto: CreateTenantDto): Promise<TenantView> {
    const p = call.principal;
    if (!managesTenants(p)) throw new Forbidden('Only the platform or a reseller may create tenants.');
    const resellerId = p.platform ? (dto.resellerId ?? null) : p.resellerId;
    if (!p.platform && dto.resellerId !== undefined && dto.resellerId !== p.resellerId) {
      throw new NotFound(`Reseller ${dto.resellerId} not found.`);
    }
    const tenant = await this.db.platform(async (tx) => {
      if (resellerId) {
        // Lock the reseller row: two concurrent creates cannot both squeeze under the limit.
        const maxTenants = await this.tenants.lockResellerLimit(tx, resellerId);
        if (maxTenants === undefined) throw new NotFound(`Reseller ${resellerId} not found.`);
        if (maxTenants !== null) {
          const count = await this.tenants.countLiveOfReseller(tx, resellerId);
          if (count >= maxTenants) {
            throw new LimitExceeded(`Plan limit reached: maxTenants is ${maxTenants} for this reseller.`, {
              limit: 'maxTenants',
              value: maxTenants,
            });
          }
        }
      }
      const created = await this.tenants.create(tx, resellerId, { ...tenantFields(dto), name: dto.name });
      await this.audit.record(tx, call, {
        tenantId: created.id,
        action: 'tenant.create',
        targetType: 'tenant',
        targetId: created.id,
        after: created,
      });
      return created;
    });
    return presentTenant(tenant);
  }

  async update(call: CallContext, tenant: Tenant, dto: UpdateTenantDto): Promise<TenantView> {
    if (dto.limits && !managesTenants(call.principal)) {
      throw new Forbidden('Plan limits are set by your reseller.');
    }
    const updated = await this.db.platform(async (tx) => {
      const after = await this.tenants.update(tx, tenant.id, tenantFields(dto));
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'tenant.update',
        targetType: 'tenant',
        targetId: tenant.id,
        before: tenant,
        after,
      });
      return after;
    });
    return presentTenant(updated);
  }

  async setStatus(
    call: CallContext,
    tenant: Tenant,
    action: 'suspend' | 'resume' | 'delete' | 'restore',
    reason?: string,
  ): Promise<TenantView> {
    const now = new Date();
    const transitions = {
      suspend: { from: ['active'], data: { status: 'suspended' as const, statusReason: reason ?? null } },
      resume: { from: ['suspended'], data: { status: 'active' as const, statusReason: null } },
      delete: {
        from: ['active', 'suspended'],
        data: {
          status: 'deleted' as const,
          statusReason: reason ?? null,
          deletedAt: now,
          purgeAfter: new Date(now.getTime() + this.config.TENANT_DELETE_GRACE_DAYS * 86_400_000),
        },
      },
      restore: {
        from: ['deleted'],
        data: { status: 'active' as const, statusReason: null, deletedAt: null, purgeAfter: null },
      },
    } as const;
    const t = transitions[action];
    if (action === 'restore' && tenant.purgeAfter && tenant.purgeAfter <= now) {
      throw new Conflict(
        `Tenant ${tenant.id} can no longer be restored: its grace period ended and its data is being purged.`,
      );
    }
    if (!(t.from as readonly string[]).includes(tenant.status)) {
      throw new Conflict(
        `Tenant ${tenant.id} is ${tenant.status}; it cannot be ${action === 'delete' ? 'deleted' : `${action}d`}.`,
      );
    }
    const updated = await this.db.platform(async (tx) => {
      // Compare-and-set on the status read by the guard: a concurrent change makes this a 409.
      const after = await this.tenants.changeStatus(tx, tenant.id, tenant.status, t.data);
      if (!after) throw new Conflict(`Tenant ${tenant.id} changed meanwhile; read it again.`);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: `tenant.${action}`,
        targetType: 'tenant',
        targetId: tenant.id,
        before: tenant,
        after,
      });
      return after;
    });
    return presentTenant(updated);
  }
}
