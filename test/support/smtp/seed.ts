import { randomBytes } from 'node:crypto';
import type { PrismaClient } from '@mailroom/db';

/** Test factories that write straight to the database, as the MTA reads it. */
export class Seeder {
  constructor(private readonly prisma: PrismaClient) {}

  async tenant(
    data: { status?: 'active' | 'suspended' | 'deleted'; storageQuotaBytes?: bigint } & Record<string, unknown> = {},
  ) {
    return this.prisma.tenant.create({ data: { name: `Tenant ${randomBytes(3).toString('hex')}`, ...data } });
  }

  async domain(
    tenantId: string,
    name: string,
    data: { status?: 'pending' | 'verified' | 'active' | 'degraded' | 'suspended'; aliasOfId?: string } = {},
  ) {
    return this.prisma.domain.create({
      data: {
        tenantId,
        name,
        unicodeName: name,
        ownershipToken: randomBytes(8).toString('hex'),
        status: 'active',
        ...data,
      },
    });
  }

  async mailbox(
    tenantId: string,
    domainId: string,
    localPart: string,
    data: { status?: 'active' | 'disabled' | 'deleted'; quotaBytes?: bigint; usedBytes?: bigint } = {},
  ) {
    const mailbox = await this.prisma.mailbox.create({
      data: { tenantId, domainId, localPart, passwordHash: 'x', ...data },
    });
    await this.prisma.folder.createMany({
      data: [
        { tenantId, mailboxId: mailbox.id, name: 'INBOX', kind: 'inbox' },
        { tenantId, mailboxId: mailbox.id, name: 'Junk', kind: 'junk' },
      ],
    });
    return mailbox;
  }

  async alias(tenantId: string, domainId: string, localPart: string, destinations: string[]) {
    return this.prisma.alias.create({
      data: { tenantId, domainId, localPart, destinations, catchAll: localPart === '*' },
    });
  }

  /** A tenant with one active domain and the given mailboxes. */
  async hosted(domain: string, localParts: string[], tenantData: Parameters<Seeder['tenant']>[0] = {}) {
    const tenant = await this.tenant(tenantData);
    const d = await this.domain(tenant.id, domain);
    const mailboxes = [];
    for (const local of localParts) mailboxes.push(await this.mailbox(tenant.id, d.id, local));
    return { tenant, domain: d, mailboxes };
  }
}
