import { Injectable } from '@nestjs/common';
import { Prisma, type Domain, type FolderKind, type Mailbox, type MailboxStatus, type Tx } from '@mailroom/db';
import type { SqlPageWindow } from '../common/pagination';

export type MailboxWithDomain = Mailbox & { domain: Pick<Domain, 'id' | 'name'> };

/** What a list shows of a mailbox: no password hash, no auth version. */
export type MailboxListRow = Pick<
  MailboxWithDomain,
  | 'id'
  | 'localPart'
  | 'domain'
  | 'displayName'
  | 'status'
  | 'smtpEnabled'
  | 'imapEnabled'
  | 'pop3Enabled'
  | 'pop3Folders'
  | 'pop3MarkRead'
  | 'pop3DeleteMode'
  | 'usedBytes'
  | 'quotaBytes'
  | 'messageCount'
  | 'legalHold'
  | 'deletedAt'
  | 'createdAt'
  | 'updatedAt'
>;

export type MailboxSortField = 'localPart' | 'createdAt';

const SORT_COLUMN: Record<MailboxSortField, Prisma.Sql> = {
  localPart: Prisma.raw('m.local_part'),
  createdAt: Prisma.raw('m.created_at'),
};

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

/**
 * The search as SQL. Like Prisma's `contains` (LIKE '%' || x || '%', the parameter not escaped),
 * so the list answers what it answered when it was a findMany.
 */
function searchSql(search: MailboxListFilter['search']): Prisma.Sql {
  if (!search) return Prisma.empty;
  if ('text' in search) {
    return Prisma.sql`AND (m.local_part LIKE ('%' || ${search.text.toLowerCase()} || '%')
      OR m.display_name ILIKE ('%' || ${search.text} || '%'))`;
  }
  const local = Prisma.sql`AND m.local_part LIKE ('%' || ${search.localPart.toLowerCase()} || '%')`;
  return search.domainPrefix ? Prisma.sql`${local} AND d.name LIKE (${search.domainPrefix} || '%')` : local;
}

/** Mailboxes (their rows and default folders; messages are the mail store's). */
@Injectable()
export class MailboxRepository {
  /**
   * A keyset page of mailboxes with their domain's name: one statement (a join), and only the
   * columns a list shows. The hottest read of the API, so SQL rather than findMany + include,
   * which took two queries and read every password hash.
   */
  async list(
    tx: Tx,
    tenantId: string,
    filter: MailboxListFilter,
    page: SqlPageWindow<MailboxSortField>,
  ): Promise<MailboxListRow[]> {
    const column = SORT_COLUMN[page.sort.field];
    const dir = Prisma.raw(page.sort.direction === 'asc' ? 'ASC' : 'DESC');
    const op = Prisma.raw(page.sort.direction === 'asc' ? '>' : '<');
    const value = (v: string | number | Date | null) =>
      page.sort.field === 'createdAt' ? Prisma.sql`${v}::timestamptz` : Prisma.sql`${v}`;
    const after = page.after
      ? Prisma.sql`AND (${column} ${op} ${value(page.after.value)}
          OR (${column} = ${value(page.after.value)} AND m.id ${op} ${page.after.id}::uuid))`
      : Prisma.empty;
    // Compared as text: enum operators are not leakproof, so under row-level security the planner
    // may not use the column's statistics for them, estimated one row, and read and sorted the
    // whole tenant instead of walking the (tenant_id, local_part, id) index: 13 to 27 ms a page.
    const status = filter.status
      ? Prisma.sql`AND m.status::text = ${filter.status}`
      : Prisma.sql`AND m.status::text <> 'deleted'`;
    const only =
      filter.onlyDomains.length > 0
        ? Prisma.sql`AND d.name IN (${Prisma.join([...filter.onlyDomains])})`
        : Prisma.empty;
    const domainName = filter.domainName ? Prisma.sql`AND d.name = ${filter.domainName}` : Prisma.empty;
    const rows = await tx.$queryRaw<(Omit<MailboxListRow, 'domain'> & { domainId: string; domainName: string })[]>`
      SELECT m.id, m.local_part AS "localPart", m.domain_id AS "domainId", d.name AS "domainName",
             m.display_name AS "displayName", m.status::text AS status, m.smtp_enabled AS "smtpEnabled",
             m.imap_enabled AS "imapEnabled", m.pop3_enabled AS "pop3Enabled", m.pop3_folders AS "pop3Folders",
             m.pop3_mark_read AS "pop3MarkRead", m.pop3_delete_mode AS "pop3DeleteMode",
             m.used_bytes AS "usedBytes", m.quota_bytes AS "quotaBytes", m.message_count AS "messageCount",
             m.legal_hold AS "legalHold", m.deleted_at AS "deletedAt", m.created_at AS "createdAt",
             m.updated_at AS "updatedAt"
        FROM mailboxes m
        JOIN domains d ON d.tenant_id = m.tenant_id AND d.id = m.domain_id
       WHERE m.tenant_id = ${tenantId}::uuid ${after} ${status} ${only} ${domainName} ${searchSql(filter.search)}
       ORDER BY ${column} ${dir}, m.id ${dir}
       LIMIT ${page.take}`;
    return rows.map(({ domainId, domainName: name, ...m }) => ({
      ...m,
      usedBytes: BigInt(m.usedBytes),
      quotaBytes: BigInt(m.quotaBytes),
      domain: { id: domainId, name },
    }));
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
