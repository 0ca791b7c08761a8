import { Injectable } from '@nestjs/common';
import type { FolderKind, RetentionPolicy, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';
import type { MailboxWithDomain } from '../mailboxes/mailbox.repository';

export type MailboxWithPolicies = MailboxWithDomain & { retentionPolicies: RetentionPolicy[] };

/**
 * Retention policies: rows with mailbox_id NULL are the tenant's, the others a mailbox's
 * overrides. NULLs are distinct to a unique index, so `replace` swaps a whole set; callers hold
 * the tenant or mailbox row lock.
 */
@Injectable()
export class RetentionRepository {
  /** The tenant's policies (mailboxId null), or the tenant's and one mailbox's. */
  policies(tx: Tx, tenantId: string, mailboxId: string | null = null): Promise<RetentionPolicy[]> {
    return tx.retentionPolicy.findMany({
      where:
        mailboxId === null ? { tenantId, mailboxId: null } : { tenantId, OR: [{ mailboxId: null }, { mailboxId }] },
    });
  }

  /** Mailboxes with overrides, with their policies; limited to `onlyDomains` when given. */
  mailboxesWithOverrides(
    tx: Tx,
    tenantId: string,
    onlyDomains: readonly string[],
    page: PageWindow,
  ): Promise<MailboxWithPolicies[]> {
    return tx.mailbox.findMany({
      where: {
        AND: [
          {
            tenantId,
            retentionPolicies: { some: {} },
            domain: onlyDomains.length > 0 ? { name: { in: [...onlyDomains] } } : {},
          },
          page.where,
        ],
      },
      include: { domain: { select: { id: true, name: true } }, retentionPolicies: true },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  /** Replaces the tenant's (mailboxId null) or a mailbox's policies with `days`. */
  async replace(tx: Tx, tenantId: string, mailboxId: string | null, days: [FolderKind, number][]): Promise<void> {
    await this.remove(tx, tenantId, mailboxId);
    await tx.retentionPolicy.createMany({
      data: days.map(([folderKind, d]) => ({ tenantId, mailboxId, folderKind, days: d })),
    });
  }

  /** Removes the tenant's or a mailbox's policies; returns how many there were. */
  async remove(tx: Tx, tenantId: string, mailboxId: string | null): Promise<number> {
    const { count } = await tx.retentionPolicy.deleteMany({ where: { tenantId, mailboxId } });
    return count;
  }

  async lockTenant(tx: Tx, tenantId: string): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
  }
}
