import { Injectable } from '@nestjs/common';
import type { Domain, FolderKind, Mailbox, MailboxStatus, Tx } from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

export type MailboxWithDomain = Mailbox & { domain: Pick<Domain, 'id' | 'name'> };

export interface MailboxListFilter {
  /** A domain-limited credential sees only these domain names (empty: all). */
  onlyDomains: readonly string[];
  /** Default: every status but deleted. */
  status?: MailboxStatus | undefined;
  domainName?: string | undefined;
  /** `local@domain-prefix` (domain part already ASCII), or part of a local part or display name. */
  search?: { localPart: string; domainPrefix: string | null } | { text: string } | undefined;
}

export interface NewMailbox {
  domainId: string;
  localPart: string;
  displayName: string | null;
  passwordHash: string;
  quotaBytes: bigint;
  smtpEnabled: boolean;
  imapEnabled: boolean;
  pop3Enabled: boolean;
}

export interface MailboxChange {
  displayName?: string | null | undefined;
  quotaBytes?: bigint | undefined;
  status?: MailboxStatus | undefined;
  smtpEnabled?: boolean | undefined;
  imapEnabled?: boolean | undefined;
  pop3Enabled?: boolean | undefined;
  legalHold?: boolean | undefined;
  passwordHash?: string | undefined;
  pop3Folders?: string[] | undefined;
  pop3MarkRead?: boolean | undefined;
  pop3DeleteMode?: 'delete' | 'keep' | 'trash' | undefined;
}

const WITH_DOMAIN = { domain: { select: { id: true, name: true } } } as const;

function searchWhere(search: MailboxListFilter['search']) {
  if (!search) return {};
  if ('text' in search) {
    return {
      OR: [
        { localPart: { contains: search.text.toLowerCase() } },
        { displayName: { contains: search.text, mode: 'insensitive' as const } },
      ],
    };
  }
  return {
    localPart: { contains: search.localPart.toLowerCase() },
    ...(search.domainPrefix ? { domain: { name: { startsWith: search.domainPrefix } } } : {}),
  };
}

/** Mailboxes (their rows and default folders; messages are the mail store's). */
@Injectable()
export class MailboxRepository {
  list(tx: Tx, tenantId: string, filter: MailboxListFilter, page: PageWindow): Promise<MailboxWithDomain[]> {
    return tx.mailbox.findMany({
      where: {
        AND: [
          { tenantId },
          page.where,
          { status: filter.status ?? { not: 'deleted' } },
          { domain: filter.onlyDomains.length > 0 ? { name: { in: [...filter.onlyDomains] } } : {} },
          filter.domainName ? { domain: { name: filter.domainName } } : {},
          searchWhere(filter.search),
        ],
      },
      include: WITH_DOMAIN,
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  find(tx: Tx, tenantId: string, id: string): Promise<MailboxWithDomain | null> {
    return tx.mailbox.findFirst({ where: { tenantId, id }, include: WITH_DOMAIN });
  }

  findByAddress(tx: Tx, tenantId: string, domainId: string, localPart: string): Promise<Mailbox | null> {
    return tx.mailbox.findFirst({ where: { tenantId, domainId, localPart } });
  }

  /** Addresses (`local@domain`) of every mailbox that is not deleted. */
  async liveAddresses(tx: Tx, tenantId: string): Promise<string[]> {
    const rows = await tx.mailbox.findMany({
      where: { tenantId, status: { not: 'deleted' } },
      select: { localPart: true, domain: { select: { name: true } } },
    });
    return rows.map((m) => `${m.localPart}@${m.domain.name}`);
  }

  countLive(tx: Tx, tenantId: string): Promise<number> {
    return tx.mailbox.count({ where: { tenantId, status: { not: 'deleted' } } });
  }

  /** Creates the mailbox with its default folders. */
  async create(
    tx: Tx,
    tenantId: string,
    mailbox: NewMailbox,
    folders: { name: string; kind: FolderKind }[],
  ): Promise<MailboxWithDomain> {
    const created = await tx.mailbox.create({ data: { tenantId, ...mailbox }, include: WITH_DOMAIN });
    await tx.folder.createMany({ data: folders.map((f) => ({ tenantId, mailboxId: created.id, ...f })) });
    return created;
  }

  update(tx: Tx, tenantId: string, id: string, change: MailboxChange): Promise<MailboxWithDomain> {
    return tx.mailbox.update({ where: { tenantId_id: { tenantId, id } }, data: change, include: WITH_DOMAIN });
  }

  /** Compare-and-set: true when this call marked the mailbox deleted. */
  async markDeleted(tx: Tx, tenantId: string, id: string, at: Date): Promise<boolean> {
    const { count } = await tx.mailbox.updateMany({
      where: { tenantId, id, status: { not: 'deleted' } },
      data: { status: 'deleted', deletedAt: at },
    });
    return count === 1;
  }

  /** The mailbox's folders (name and kind), for settings that name folders. */
  folders(tx: Tx, tenantId: string, mailboxId: string): Promise<{ name: string; kind: FolderKind }[]> {
    return tx.folder.findMany({ where: { tenantId, mailboxId }, select: { name: true, kind: true } });
  }

  /** Locks the mailbox row for the rest of the transaction (ordering, singleton settings). */
  async lock(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.$queryRaw`SELECT 1 FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${id}::uuid FOR UPDATE`;
  }

  /**
   * Locks the tenant row and returns its maxMailboxes: concurrent creates cannot both squeeze
   * under the limit.
   */
  async lockTenantLimit(tx: Tx, tenantId: string): Promise<number> {
    const [limits] = await tx.$queryRaw<{ max_mailboxes: number }[]>`
      SELECT max_mailboxes FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
    return limits?.max_mailboxes ?? 0;
  }
}
