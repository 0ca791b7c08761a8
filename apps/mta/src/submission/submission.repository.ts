import type { PrismaClient } from '@mailroom/db';

export interface LoginRow {
  tenantId: string;
  mailboxId: string;
  domainId: string;
  localPart: string;
  domainName: string;
  passwordHash: string;
  mailboxStatus: 'active' | 'disabled' | 'deleted';
  smtpEnabled: boolean;
  quotaBytes: bigint;
  usedBytes: bigint;
  domainStatus: string;
  tenantStatus: 'active' | 'suspended' | 'deleted';
}

export interface SenderDomainRow {
  tenantId: string;
  id: string;
  aliasOfId: string | null;
  deletedAt: Date | null;
  status: string;
  /** For a domain alias: its target's status (both must have proven ownership). */
  aliasOf: { status: string; deletedAt: Date | null } | null;
}

/**
 * Reads for submission: the login's mailbox, the tenant's IP rules and suppressions, the domains
 * and aliases that decide sender ownership. Every tenant-owned read takes the tenant id. The MTA
 * connects as the owning role, so RLS does not apply; these filters are the wall.
 */
export class SubmissionRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** The mailbox a login names (domain names are unique across tenants), or null. */
  async findLogin(domainName: string, localKey: string): Promise<LoginRow | null> {
    const domain = await this.prisma.domain.findUnique({
      where: { name: domainName },
      select: {
        tenantId: true,
        id: true,
        name: true,
        status: true,
        deletedAt: true,
        tenant: { select: { status: true } },
      },
    });
    if (!domain || domain.deletedAt) return null;
    const mailbox = await this.prisma.mailbox.findUnique({
      where: { tenantId_domainId_localPart: { tenantId: domain.tenantId, domainId: domain.id, localPart: localKey } },
      select: {
        id: true,
        localPart: true,
        passwordHash: true,
        status: true,
        smtpEnabled: true,
        quotaBytes: true,
        usedBytes: true,
      },
    });
    if (!mailbox) return null;
    return {
      tenantId: domain.tenantId,
      mailboxId: mailbox.id,
      domainId: domain.id,
      localPart: mailbox.localPart,
      domainName: domain.name,
      passwordHash: mailbox.passwordHash,
      mailboxStatus: mailbox.status,
      smtpEnabled: mailbox.smtpEnabled,
      quotaBytes: mailbox.quotaBytes,
      usedBytes: mailbox.usedBytes,
      domainStatus: domain.status,
      tenantStatus: domain.tenant.status,
    };
  }

  ipRules(tenantId: string) {
    return this.prisma.ipAccessRule.findMany({
      where: { tenantId, service: 'submission' },
      select: { cidr: true, action: true, service: true, priority: true },
      orderBy: { priority: 'asc' },
    });
  }

  /** A domain of this tenant by name (ownership never crosses tenants). */
  findTenantDomain(tenantId: string, name: string): Promise<SenderDomainRow | null> {
    return this.prisma.domain.findFirst({
      where: { tenantId, name },
      select: {
        tenantId: true,
        id: true,
        aliasOfId: true,
        deletedAt: true,
        status: true,
        aliasOf: { select: { status: true, deletedAt: true } },
      },
    });
  }

  async aliasDestinations(tenantId: string, domainId: string, localKey: string): Promise<string[] | null> {
    const alias = await this.prisma.alias.findFirst({
      where: { tenantId, domainId, localPart: localKey, enabled: true },
      select: { destinations: true },
    });
    return alias ? alias.destinations : null;
  }

  async isSuppressed(tenantId: string, address: string): Promise<boolean> {
    const row = await this.prisma.suppression.findFirst({
      where: {
        tenantId,
        address: address.toLowerCase(),
        OR: [{ expiresAt: null }, { expiresAt: { gt: new Date() } }],
      },
      select: { id: true },
    });
    return row !== null;
  }
}
