import { Injectable } from '@nestjs/common';
import type { DkimKey, DnsCheck, Domain, DomainStatus, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';
import { TenantDb } from '../infra/tenant-db.service';

export type DomainWith = Domain & { dkimKeys: DkimKey[]; aliasOf: Domain | null };
export type DomainWithChecks = DomainWith & { dnsChecks: DnsCheck[] };

export interface DomainListFilter {
  /** A domain-limited credential sees only these names (empty: all). */
  onlyNames: readonly string[];
  status?: DomainStatus | undefined;
  /** Part of the name or of its Unicode form, lower case. */
  search?: string | undefined;
}

export interface NewDkimKey {
  id: string;
  selector: string;
  publicKey: string;
  privateKeyEncrypted: string;
}

const WITH = { dkimKeys: true, aliasOf: true } as const;
const namesIn = (names: readonly string[]) => (names.length > 0 ? { name: { in: [...names] } } : {});

/** Domains and their DKIM keys. */
@Injectable()
export class DomainRepository {
  constructor(private readonly db: TenantDb) {}

  list(tx: Tx, tenantId: string, filter: DomainListFilter, page: PageWindow): Promise<DomainWith[]> {
    return tx.domain.findMany({
      where: {
        AND: [
          { tenantId, deletedAt: null },
          namesIn(filter.onlyNames),
          page.where,
          filter.status ? { status: filter.status } : {},
          filter.search
            ? { OR: [{ name: { contains: filter.search } }, { unicodeName: { contains: filter.search } }] }
            : {},
        ],
      },
      include: WITH,
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  /** A live domain by id, with keys, alias target and DNS checks; limited to `onlyNames` when given. */
  findLive(tx: Tx, tenantId: string, id: string, onlyNames: readonly string[]): Promise<DomainWithChecks | null> {
    return tx.domain.findFirst({
      where: { tenantId, id, deletedAt: null, ...namesIn(onlyNames) },
      include: { ...WITH, dnsChecks: true },
    });
  }

  /** A live domain of the tenant by id or by (ASCII) name. */
  findLiveBy(tx: Tx, tenantId: string, ref: { id: string } | { name: string }): Promise<Domain | null> {
    return tx.domain.findFirst({ where: { tenantId, ...ref, deletedAt: null } });
  }

  get(tx: Tx, tenantId: string, id: string): Promise<DomainWith> {
    return tx.domain.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id } }, include: WITH });
  }

  countAliasesOf(tx: Tx, tenantId: string, id: string): Promise<number> {
    return tx.domain.count({ where: { tenantId, aliasOfId: id, deletedAt: null } });
  }

  /** Marks the domain deleted and suspended (the MTA stops accepting mail for it). */
  markDeleted(tx: Tx, tenantId: string, id: string, at: Date): Promise<DomainWith> {
    return tx.domain.update({
      where: { tenantId_id: { tenantId, id } },
      data: { deletedAt: at, status: 'suspended' },
      include: WITH,
    });
  }

  async setNextCheck(tx: Tx, tenantId: string, id: string, at: Date): Promise<void> {
    await tx.domain.update({ where: { tenantId_id: { tenantId, id } }, data: { nextCheckAt: at } });
  }

  async addDkimKey(tx: Tx, tenantId: string, domainId: string, key: NewDkimKey): Promise<void> {
    await tx.dkimKey.create({ data: { tenantId, domainId, ...key } });
  }

  /** Names of every domain of the tenant, deleted ones included. */
  async names(tx: Tx, tenantId: string): Promise<string[]> {
    return (await tx.domain.findMany({ where: { tenantId }, select: { name: true } })).map((d) => d.name);
  }

  /** Which of `names` are domains of the tenant (deleted ones included). */
  async namesAmong(tx: Tx, tenantId: string, names: readonly string[]): Promise<Set<string>> {
    const rows = await tx.domain.findMany({ where: { tenantId, name: { in: [...names] } }, select: { name: true } });
    return new Set(rows.map((r) => r.name));
  }

  /** Which of `names` another tenant hosts: a platform-wide read returning names only. */
  async foreignNames(tx: Tx, tenantId: string, names: readonly string[]): Promise<Set<string>> {
    const rows = await tx.domain.findMany({
      where: { name: { in: [...new Set(names)] }, deletedAt: null, tenantId: { not: tenantId } },
      select: { name: true },
    });
    return new Set(rows.map((r) => r.name));
  }

  /** A domain of any tenant by name, when it is in one of `statuses` (public, unauthenticated reads). */
  findServing(name: string, statuses: readonly DomainStatus[]): Promise<Domain | null> {
    return this.db.client.domain.findFirst({ where: { name, deletedAt: null, status: { in: [...statuses] } } });
  }
}
