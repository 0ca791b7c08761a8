import type { Db, DkimKey, DnsCheck, Domain, DomainStatus, Tx } from '@mailroom/db';

export type DomainWithDns = Domain & { dkimKeys: DkimKey[]; dnsChecks: DnsCheck[] };

export interface NewDomain {
  name: string;
  unicodeName: string;
  ownershipToken: string;
  aliasOfId: string | null;
  mtaStsId: string;
  nextCheckAt: Date;
}

export interface NewDkimKey {
  id: string;
  selector: string;
  publicKey: string;
  privateKeyEncrypted: string;
}

export interface CheckRow {
  recordKey: string;
  type: string;
  name: string;
  expected: string;
  found: string[];
  status: DnsCheck['status'];
  message: string;
  checkedAt: Date;
  /** Set when the status changed (and on the first check). */
  changedAt?: Date;
}

export interface StatusMove {
  from: DomainStatus;
  to: DomainStatus;
  checkedAt: Date;
  nextCheckAt: Date;
  verifiedAt?: Date;
  activatedAt?: Date;
}

/**
 * Domains, DKIM keys and DNS check rows as onboarding writes them: adding a domain (in the
 * caller's transaction, tenant-scoped in the API) and the DNS check (the worker's and the
 * CLI's system role).
 */
export class DomainRepository {
  /**
   * Locks the tenant row and returns its maxDomains (undefined: no such tenant): two
   * concurrent adds cannot both squeeze under the limit.
   */
  async lockTenantLimit(tx: Tx, tenantId: string): Promise<number | undefined> {
    const [tenant] = await tx.$queryRaw<{ max_domains: number }[]>`
      SELECT max_domains FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
    return tenant?.max_domains;
  }

  countLive(tx: Tx, tenantId: string): Promise<number> {
    return tx.domain.count({ where: { tenantId, deletedAt: null } });
  }

  /** A live domain of the tenant by (lower-case) name, or by id when `ref` is a uuid. */
  findLiveByNameOrId(tx: Tx, tenantId: string, ref: string): Promise<Domain | null> {
    return tx.domain.findFirst({
      where: {
        tenantId,
        deletedAt: null,
        OR: [{ name: ref.toLowerCase() }, ...(/^[0-9a-f-]{36}$/i.test(ref) ? [{ id: ref }] : [])],
      },
    });
  }

  /** Creates the domain with its first DKIM key; a taken name throws the unique violation. */
  async create(
    tx: Tx,
    tenantId: string,
    domain: NewDomain,
    key: NewDkimKey,
  ): Promise<{ domain: Domain; key: DkimKey }> {
    const created = await tx.domain.create({ data: { tenantId, ...domain } });
    const dkim = await tx.dkimKey.create({ data: { tenantId, domainId: created.id, ...key } });
    return { domain: created, key: dkim };
  }

  findWithDns(db: Db | Tx, tenantId: string, id: string): Promise<DomainWithDns | null> {
    return db.domain.findUnique({
      where: { tenantId_id: { tenantId, id } },
      include: { dkimKeys: true, dnsChecks: true },
    });
  }

  get(tx: Tx, tenantId: string, id: string): Promise<Domain> {
    return tx.domain.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id } } });
  }

  /** Writes one check row per record and drops rows of records no longer in the plan. */
  async storeChecks(tx: Tx, tenantId: string, domainId: string, rows: CheckRow[]): Promise<void> {
    for (const { recordKey, ...data } of rows) {
      await tx.dnsCheck.upsert({
        where: { tenantId_domainId_recordKey: { tenantId, domainId, recordKey } },
        create: { tenantId, domainId, recordKey, ...data, changedAt: data.changedAt ?? data.checkedAt },
        update: data,
      });
    }
    await tx.dnsCheck.deleteMany({
      where: { tenantId, domainId, recordKey: { notIn: rows.map((r) => r.recordKey) } },
    });
  }

  /** Compare-and-set on the status: false when another check moved the domain meanwhile. */
  async moveStatus(tx: Tx, tenantId: string, id: string, move: StatusMove): Promise<boolean> {
    const updated = await tx.domain.updateMany({
      where: { tenantId, id, status: move.from },
      data: {
        status: move.to,
        lastCheckedAt: move.checkedAt,
        nextCheckAt: move.nextCheckAt,
        ...(move.verifiedAt ? { verifiedAt: move.verifiedAt } : {}),
        ...(move.activatedAt ? { activatedAt: move.activatedAt } : {}),
      },
    });
    return updated.count === 1;
  }

  /** Makes `key` the signing key; the active one retires after `retireAfter`. */
  async activateKey(tx: Tx, key: Pick<DkimKey, 'tenantId' | 'domainId' | 'id'>, at: Date, retireAfter: Date) {
    await tx.dkimKey.updateMany({
      where: { tenantId: key.tenantId, domainId: key.domainId, status: 'active' },
      data: { status: 'retiring', retireAfter },
    });
    await tx.dkimKey.update({
      where: { tenantId_id: { tenantId: key.tenantId, id: key.id } },
      data: { status: 'active', activatedAt: at },
    });
  }

  async retireKey(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.dkimKey.update({ where: { tenantId_id: { tenantId, id } }, data: { status: 'retired' } });
  }
}
