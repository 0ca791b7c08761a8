import type { AdminUser, ApiKey, Db, DkimKey, DnsCheck, Domain, FolderKind, Mailbox, Tenant } from '@mailroom/db';

export type DomainWithDns = Domain & { dkimKeys: DkimKey[]; dnsChecks: DnsCheck[] };

/** Fixed ids of the demo objects, so seeding is an upsert. */
export interface DemoIds {
  resellerId: string;
  tenantId: string;
  domainId: string;
  mailboxId: string;
}

/**
 * What the operator CLI reads and writes. It runs as the owning role (no row-level security)
 * across tenants, so every tenant-owned lookup names the tenant or is a platform-wide read by a
 * unique name.
 */
export class CliRepository {
  constructor(private readonly db: Db) {}

  findAdminByEmail(email: string): Promise<AdminUser | null> {
    return this.db.adminUser.findUnique({ where: { email } });
  }

  createPlatformAdmin(email: string, passwordHash: string): Promise<AdminUser> {
    return this.db.adminUser.create({ data: { email, passwordHash, role: 'platform_admin' } });
  }

  /** The demo tenant's admin (by its unique email): created, or given this password hash. */
  async upsertTenantAdmin(
    tenantId: string,
    admin: { email: string; displayName: string; passwordHash: string },
  ): Promise<void> {
    await this.db.adminUser.upsert({
      where: { email: admin.email },
      update: { passwordHash: admin.passwordHash, failedLoginCount: 0, lockedUntil: null, disabled: false },
      create: { ...admin, role: 'tenant_admin', tenantId },
    });
  }

  /** A tenant by id, or a tenant that is not deleted by its exact name. */
  findTenant(ref: { id: string } | { name: string }): Promise<Tenant | null> {
    return 'id' in ref
      ? this.db.tenant.findUnique({ where: { id: ref.id } })
      : this.db.tenant.findFirst({ where: { name: ref.name, status: { not: 'deleted' } } });
  }

  /** A live domain of any tenant by its (unique) ASCII name, with keys and checks. */
  findDomainByName(name: string): Promise<DomainWithDns | null> {
    return this.db.domain.findFirst({
      where: { name, deletedAt: null },
      include: { dkimKeys: true, dnsChecks: true },
    });
  }

  /** Creates the demo reseller, tenant and active domain unless they exist. */
  async ensureDemoTenant(ids: DemoIds, domain: { name: string; ownershipToken: string; at: Date }): Promise<void> {
    await this.db.reseller.upsert({
      where: { id: ids.resellerId },
      update: {},
      create: { id: ids.resellerId, name: 'Demo Reseller' },
    });
    await this.db.tenant.upsert({
      where: { id: ids.tenantId },
      update: {},
      create: { id: ids.tenantId, resellerId: ids.resellerId, name: 'Demo Company' },
    });
    await this.db.domain.upsert({
      where: { tenantId_id: { tenantId: ids.tenantId, id: ids.domainId } },
      update: {},
      create: {
        tenantId: ids.tenantId,
        id: ids.domainId,
        name: domain.name,
        unicodeName: domain.name,
        status: 'active',
        ownershipToken: domain.ownershipToken,
        verifiedAt: domain.at,
        activatedAt: domain.at,
      },
    });
  }

  findMailbox(tenantId: string, id: string): Promise<Mailbox | null> {
    return this.db.mailbox.findUnique({ where: { tenantId_id: { tenantId, id } } });
  }

  /** Creates the mailbox, or sets the password of the existing one. */
  async upsertMailbox(
    ids: DemoIds,
    mailbox: { localPart: string; displayName: string; passwordHash: string },
  ): Promise<void> {
    await this.db.mailbox.upsert({
      where: { tenantId_id: { tenantId: ids.tenantId, id: ids.mailboxId } },
      update: { passwordHash: mailbox.passwordHash },
      create: { tenantId: ids.tenantId, id: ids.mailboxId, domainId: ids.domainId, ...mailbox },
    });
  }

  async ensureFolders(tenantId: string, mailboxId: string, folders: readonly { name: string; kind: FolderKind }[]) {
    for (const folder of folders) {
      await this.db.folder.upsert({
        where: { tenantId_mailboxId_name: { tenantId, mailboxId, name: folder.name } },
        update: {},
        create: { tenantId, mailboxId, name: folder.name, kind: folder.kind },
      });
    }
  }

  activeApiKeys(tenantId: string, name: string): Promise<ApiKey[]> {
    return this.db.apiKey.findMany({ where: { tenantId, name, revokedAt: null } });
  }

  async revokeApiKeys(tenantId: string, name: string, at: Date): Promise<void> {
    await this.db.apiKey.updateMany({ where: { tenantId, name, revokedAt: null }, data: { revokedAt: at } });
  }

  async createApiKey(
    tenantId: string,
    key: { name: string; prefix: string; keyHash: string; scopes: string[]; createdBy: string },
  ): Promise<void> {
    await this.db.apiKey.create({ data: { tenantId, ...key } });
  }
}
