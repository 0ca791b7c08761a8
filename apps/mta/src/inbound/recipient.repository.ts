import type { PrismaClient } from '@mailroom/db';
import { tenantUsage } from './tenant-usage';

export interface DomainRow {
  tenantId: string;
  id: string;
  name: string;
  status: string;
  aliasOfId: string | null;
  deletedAt: Date | null;
}

export interface TenantRow {
  id: string;
  status: 'active' | 'suspended' | 'deleted';
  storageQuotaBytes: bigint;
  spamJunkThreshold: number | null;
  spamRejectThreshold: number | null;
}

export interface MailboxRow {
  tenantId: string;
  id: string;
  domainId: string;
  localPart: string;
  status: 'active' | 'disabled' | 'deleted';
  quotaBytes: bigint;
  usedBytes: bigint;
  spamJunkThreshold: number | null;
}

export interface AliasRow {
  tenantId: string;
  id: string;
  localPart: string;
  destinations: string[];
}

const MAILBOX_FIELDS = {
  tenantId: true,
  id: true,
  domainId: true,
  localPart: true,
  status: true,
  quotaBytes: true,
  usedBytes: true,
  spamJunkThreshold: true,
} as const;

const DOMAIN_FIELDS = { tenantId: true, id: true, name: true, status: true, aliasOfId: true, deletedAt: true } as const;

/** Reads for recipient resolution. The MTA connects as the owning role, so no RLS applies. */
export class RecipientRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** domains.name is unique across tenants: this is how a recipient finds its tenant. */
  findDomainByName(name: string): Promise<DomainRow | null> {
    return this.prisma.domain.findUnique({ where: { name }, select: DOMAIN_FIELDS });
  }

  findDomain(tenantId: string, id: string): Promise<DomainRow | null> {
    return this.prisma.domain.findUnique({ where: { tenantId_id: { tenantId, id } }, select: DOMAIN_FIELDS });
  }

  findTenant(tenantId: string): Promise<TenantRow | null> {
    return this.prisma.tenant.findUnique({
      where: { id: tenantId },
      select: { id: true, status: true, storageQuotaBytes: true, spamJunkThreshold: true, spamRejectThreshold: true },
    });
  }

  findMailbox(tenantId: string, domainId: string, localPart: string): Promise<MailboxRow | null> {
    return this.prisma.mailbox.findUnique({
      where: { tenantId_domainId_localPart: { tenantId, domainId, localPart } },
      select: MAILBOX_FIELDS,
    });
  }

  findAlias(tenantId: string, domainId: string, localPart: string): Promise<AliasRow | null> {
    return this.prisma.alias.findFirst({
      where: { tenantId, domainId, localPart, enabled: true },
      select: { tenantId: true, id: true, localPart: true, destinations: true },
    });
  }

  /** Cached per tenant (see TenantUsage): summing every mailbox per recipient does not scale. */
  async tenantUsedBytes(tenantId: string): Promise<bigint> {
    return tenantUsage.used(this.prisma, tenantId);
  }
}
