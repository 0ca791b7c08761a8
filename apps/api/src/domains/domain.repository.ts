import { Injectable } from '@nestjs/common';
import {
  defineStatement,
  isTenantScope,
  type DkimKey,
  type DnsCheck,
  type Domain,
  type DomainStatus,
  type TenantScope,
  type Tx,
} from '@mailroom/db';
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

/** A Prisma row as JSON gives it: dates as strings. */
type AsJson<T> = { [K in keyof T]: T[K] extends Date ? string : T[K] extends Date | null ? string | null : T[K] };

type LiveDomainRow = Domain & {
  aliasOf: AsJson<Domain> | null;
  dkimKeys: AsJson<DkimKey>[];
  dnsChecks: AsJson<DnsCheck>[];
};

/** The domains row as Prisma's Domain (camelCase names, status as text). */
function domainColumnsText(t: 'a' | 'd'): string {
  return `${t}.tenant_id AS "tenantId", ${t}.id, ${t}.name, ${t}.unicode_name AS "unicodeName",
    ${t}.status::text AS status, ${t}.ownership_token AS "ownershipToken", ${t}.alias_of_id AS "aliasOfId",
    ${t}.mta_sts_id AS "mtaStsId", ${t}.mta_sts_mode AS "mtaStsMode", ${t}.verified_at AS "verifiedAt",
    ${t}.activated_at AS "activatedAt", ${t}.last_checked_at AS "lastCheckedAt", ${t}.next_check_at AS "nextCheckAt",
    ${t}.deleted_at AS "deletedAt", ${t}.created_at AS "createdAt", ${t}.updated_at AS "updatedAt"`;
}

function dateOrNull(v: string | null): Date | null {
  return v === null ? null : new Date(v);
}

function domainFromJson(d: AsJson<Domain>): Domain {
  return {
    ...d,
    verifiedAt: dateOrNull(d.verifiedAt),
    activatedAt: dateOrNull(d.activatedAt),
    lastCheckedAt: dateOrNull(d.lastCheckedAt),
    nextCheckAt: dateOrNull(d.nextCheckAt),
    deletedAt: dateOrNull(d.deletedAt),
    createdAt: new Date(d.createdAt),
    updatedAt: new Date(d.updatedAt),
  };
}

/** A live domain with its alias target, DKIM keys and DNS checks ($3: the names a domain-limited credential sees). */
const LIVE_DOMAIN = defineStatement<LiveDomainRow, [string, string, string[]]>(
  'api_domain_live',
  `SELECT ${domainColumnsText('d')},
          (SELECT row_to_json(x) FROM (SELECT ${domainColumnsText('a')} FROM domains a
             WHERE a.tenant_id = d.tenant_id AND a.id = d.alias_of_id) x) AS "aliasOf",
          COALESCE((SELECT json_agg(json_build_object(
              'tenantId', k.tenant_id, 'id', k.id, 'domainId', k.domain_id, 'selector', k.selector,
              'algorithm', k.algorithm, 'publicKey', k.public_key, 'privateKeyEncrypted', k.private_key_encrypted,
              'status', k.status::text, 'activatedAt', k.activated_at, 'retireAfter', k.retire_after,
              'createdAt', k.created_at) ORDER BY k.created_at, k.id)
             FROM dkim_keys k WHERE k.tenant_id = d.tenant_id AND k.domain_id = d.id), '[]') AS "dkimKeys",
          COALESCE((SELECT json_agg(json_build_object(
              'tenantId', c.tenant_id, 'id', c.id, 'domainId', c.domain_id, 'recordKey', c.record_key,
              'type', c.type, 'name', c.name, 'expected', c.expected, 'found', c.found,
              'status', c.status::text, 'message', c.message, 'checkedAt', c.checked_at,
              'changedAt', c.changed_at) ORDER BY c.record_key)
             FROM dns_checks c WHERE c.tenant_id = d.tenant_id AND c.domain_id = d.id), '[]') AS "dnsChecks"
     FROM domains d
    WHERE d.tenant_id = $1::uuid AND d.id = $2::uuid AND d.deleted_at IS NULL
      AND (cardinality($3::text[]) = 0 OR d.name = ANY ($3::text[]))`,
);

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

  /**
   * A live domain by id, with keys, alias target and DNS checks; limited to `onlyNames` when
   * given. One statement (the children as JSON arrays), not Prisma's four for three includes;
   * on a TenantScope (the DNS plan, zone and domain reads) one round trip with its RLS scope.
   */
  async findLive(
    on: Tx | TenantScope,
    tenantId: string,
    id: string,
    onlyNames: readonly string[],
  ): Promise<DomainWithChecks | null> {
    const params: [string, string, string[]] = [tenantId, id, [...onlyNames]];
    const rows = isTenantScope(on) ? await LIVE_DOMAIN.readInTenant(on, params) : await LIVE_DOMAIN.run(on, params);
    const row = rows[0];
    if (!row) return null;
    const { aliasOf, dkimKeys, dnsChecks, ...domain } = row;
    return {
      ...domain,
      aliasOf: aliasOf ? domainFromJson(aliasOf) : null,
      dkimKeys: dkimKeys.map((k) => ({
        ...k,
        activatedAt: dateOrNull(k.activatedAt),
        retireAfter: dateOrNull(k.retireAfter),
        createdAt: new Date(k.createdAt),
      })),
      dnsChecks: dnsChecks.map((c) => ({
        ...c,
        checkedAt: dateOrNull(c.checkedAt),
        changedAt: dateOrNull(c.changedAt),
      })),
    };
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
