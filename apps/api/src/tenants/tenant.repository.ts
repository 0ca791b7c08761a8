import { Injectable } from '@nestjs/common';
import type { Tenant, TenantStatus, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

/** Which tenants a caller may list: all, one reseller's, or its own (not deleted). */
export type TenantVisibility = { all: true } | { resellerId: string } | { tenantId: string };

export interface TenantListFilter {
  status?: TenantStatus | undefined;
  /** Part of the name, any case. */
  name?: string | undefined;
}

export interface TenantFields {
  name?: string | undefined;
  smtputf8Enabled?: boolean | undefined;
  maxDomains?: number | undefined;
  maxMailboxes?: number | undefined;
  storageQuotaBytes?: bigint | undefined;
}

export interface TenantStatusChange {
  status: TenantStatus;
  statusReason: string | null;
  deletedAt?: Date | null;
  purgeAfter?: Date | null;
}

export interface TenantUsageCounts {
  domains: number;
  mailboxes: number;
  storageBytes: bigint;
  messagesIn: number;
  messagesOut: number;
}

function visibleWhere(v: TenantVisibility) {
  if ('all' in v) return {};
  if ('resellerId' in v) return { resellerId: v.resellerId };
  return { id: v.tenantId, status: { not: 'deleted' as const } };
}

/** Tenants (a platform-level table: these run in platform scope with explicit filters). */
@Injectable()
export class TenantRepository {
  list(tx: Tx, visible: TenantVisibility, filter: TenantListFilter, page: PageWindow): Promise<Tenant[]> {
    return tx.tenant.findMany({
      where: {
        AND: [
          visibleWhere(visible),
          page.where,
          filter.status ? { status: filter.status } : {},
          filter.name ? { name: { contains: filter.name, mode: 'insensitive' } } : {},
        ],
      },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  find(tx: Tx, id: string): Promise<Tenant | null> {
    return tx.tenant.findUnique({ where: { id } });
  }

  create(tx: Tx, resellerId: string | null, fields: TenantFields & { name: string }): Promise<Tenant> {
    return tx.tenant.create({ data: { ...fields, resellerId } });
  }

  update(tx: Tx, id: string, fields: TenantFields): Promise<Tenant> {
    return tx.tenant.update({ where: { id }, data: fields });
  }

  /** Compare-and-set on the status: null when the tenant is no longer in `from`. */
  async changeStatus(tx: Tx, id: string, from: TenantStatus, change: TenantStatusChange): Promise<Tenant | null> {
    const { count } = await tx.tenant.updateMany({ where: { id, status: from }, data: change });
    return count === 0 ? null : tx.tenant.findUniqueOrThrow({ where: { id } });
  }

  /**
   * Locks the reseller row and returns its maxTenants (null: no limit), or undefined when the
   * reseller does not exist: two concurrent creates cannot both squeeze under the limit.
   */
  async lockResellerLimit(tx: Tx, resellerId: string): Promise<number | null | undefined> {
    const [reseller] = await tx.$queryRaw<{ max_tenants: number | null }[]>`
      SELECT max_tenants FROM resellers WHERE id = ${resellerId}::uuid FOR UPDATE`;
    return reseller ? reseller.max_tenants : undefined;
  }

  countLiveOfReseller(tx: Tx, resellerId: string): Promise<number> {
    return tx.tenant.count({ where: { resellerId, status: { not: 'deleted' } } });
  }

  /** What a tenant uses now; messages and outbound messages counted since `since`. */
  async usage(tx: Tx, tenantId: string, since: Date): Promise<TenantUsageCounts> {
    const [domains, mailboxes, storage, messagesIn, messagesOut] = await Promise.all([
      tx.domain.count({ where: { tenantId, deletedAt: null } }),
      tx.mailbox.count({ where: { tenantId, status: { not: 'deleted' } } }),
      tx.mailbox.aggregate({ where: { tenantId }, _sum: { usedBytes: true } }),
      tx.message.count({ where: { tenantId, receivedAt: { gte: since } } }),
      tx.outboundMessage.count({ where: { tenantId, createdAt: { gte: since } } }),
    ]);
    return { domains, mailboxes, storageBytes: storage._sum.usedBytes ?? 0n, messagesIn, messagesOut };
  }
}
