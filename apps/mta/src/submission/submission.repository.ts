import type { PrismaClient } from '@mailroom/db';

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
 * Reads for submission: the tenant's suppressions, the domains and aliases that decide sender
 * ownership (logins are @mailroom/access's). Every tenant-owned read takes the tenant id. The MTA
 * connects as the owning role, so RLS does not apply; these filters are the wall.
 */
export class SubmissionRepository {
  constructor(private readonly prisma: PrismaClient) {}

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
