import { Injectable } from '@nestjs/common';
import type { Alias, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';
import type { AliasWithDomain } from './alias.presenter';

export interface AliasListFilter {
  /** A domain-limited credential sees only these domain names (empty: all). */
  onlyDomains: readonly string[];
  domainName?: string | undefined;
  catchAll?: boolean | undefined;
  system?: boolean | undefined;
  /** Part of the address (`local`, `local@dom`), or a destination. */
  search?: string | undefined;
}

export interface NewAlias {
  domainId: string;
  localPart: string;
  catchAll?: boolean;
  destinations: string[];
  enabled?: boolean;
  system?: boolean;
  description: string | null;
}

export interface AliasChange {
  destinations?: string[] | undefined;
  enabled?: boolean | undefined;
  description?: string | null | undefined;
}

/** What loop and existence checks of alias destinations read: the tenant's address graph. */
export interface AddressGraph {
  domains: { id: string; name: string; aliasOfId: string | null }[];
  aliases: { id: string; domainId: string; localPart: string; destinations: string[] }[];
  mailboxes: { domainId: string; localPart: string }[];
}

const WITH_DOMAIN = { domain: { select: { id: true, name: true } } } as const;

function searchWhere(q: string | undefined) {
  if (!q) return {};
  const lower = q.toLowerCase();
  const at = lower.lastIndexOf('@');
  const local = at >= 0 ? lower.slice(0, at) : lower;
  return {
    OR: [
      { localPart: { contains: local }, ...(at >= 0 ? { domain: { name: { startsWith: lower.slice(at + 1) } } } : {}) },
      { destinations: { has: lower } },
    ],
  };
}

/** Aliases, and the tenant's address graph their destinations are checked against. */
@Injectable()
export class AliasRepository {
  list(tx: Tx, tenantId: string, filter: AliasListFilter, page: PageWindow): Promise<AliasWithDomain[]> {
    return tx.alias.findMany({
      where: {
        AND: [
          { tenantId },
          page.where,
          { domain: filter.onlyDomains.length > 0 ? { name: { in: [...filter.onlyDomains] } } : {} },
          filter.domainName ? { domain: { name: filter.domainName } } : {},
          filter.catchAll !== undefined ? { catchAll: filter.catchAll } : {},
          filter.system !== undefined ? { system: filter.system } : {},
          searchWhere(filter.search),
        ],
      },
      include: WITH_DOMAIN,
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  find(tx: Tx, tenantId: string, id: string): Promise<AliasWithDomain | null> {
    return tx.alias.findFirst({ where: { tenantId, id }, include: WITH_DOMAIN });
  }

  findByAddress(tx: Tx, tenantId: string, domainId: string, localPart: string): Promise<Alias | null> {
    return tx.alias.findFirst({ where: { tenantId, domainId, localPart } });
  }

  create(tx: Tx, tenantId: string, alias: NewAlias): Promise<AliasWithDomain> {
    return tx.alias.create({ data: { tenantId, ...alias }, include: WITH_DOMAIN });
  }

  /** A system alias (postmaster@, abuse@): one destination, never a catch-all. */
  createSystem(
    tx: Tx,
    tenantId: string,
    alias: { domainId: string; localPart: string; destination: string; description: string },
  ): Promise<Alias> {
    const { destination, ...rest } = alias;
    return tx.alias.create({ data: { tenantId, ...rest, destinations: [destination], system: true } });
  }

  update(tx: Tx, tenantId: string, id: string, change: AliasChange): Promise<AliasWithDomain> {
    return tx.alias.update({ where: { tenantId_id: { tenantId, id } }, data: change, include: WITH_DOMAIN });
  }

  async remove(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.alias.delete({ where: { tenantId_id: { tenantId, id } } });
  }

  /** Local parts among `localParts` that the domain has aliases for. */
  async existingLocalParts(tx: Tx, tenantId: string, domainId: string, localParts: string[]): Promise<string[]> {
    const rows = await tx.alias.findMany({
      where: { tenantId, domainId, localPart: { in: localParts } },
      select: { localPart: true },
    });
    return rows.map((r) => r.localPart);
  }

  /** Alias writes take the tenant row lock: two concurrent writes cannot together close a loop. */
  async lockTenant(tx: Tx, tenantId: string): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
  }

  async addressGraph(tx: Tx, tenantId: string): Promise<AddressGraph> {
    const [domains, aliases, mailboxes] = await Promise.all([
      tx.domain.findMany({ where: { tenantId, deletedAt: null }, select: { id: true, name: true, aliasOfId: true } }),
      tx.alias.findMany({
        where: { tenantId },
        select: { id: true, domainId: true, localPart: true, destinations: true },
      }),
      tx.mailbox.findMany({
        where: { tenantId, status: { not: 'deleted' } },
        select: { domainId: true, localPart: true },
      }),
    ]);
    return { domains, aliases, mailboxes };
  }

  /** The email of the tenant's first enabled tenant admin. */
  async firstTenantAdminEmail(tx: Tx, tenantId: string): Promise<string | null> {
    const admin = await tx.adminUser.findFirst({
      where: { tenantId, role: 'tenant_admin', disabled: false },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { email: true },
    });
    return admin?.email ?? null;
  }

  /** The address of the domain's first mailbox that is not deleted. */
  async firstMailboxAddress(tx: Tx, tenantId: string, domainId: string): Promise<string | null> {
    const box = await tx.mailbox.findFirst({
      where: { tenantId, domainId, status: { not: 'deleted' } },
      orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
      select: { localPart: true, domain: { select: { name: true } } },
    });
    return box ? `${box.localPart}@${box.domain.name}` : null;
  }
}
