import { Injectable } from '@nestjs/common';
import { ValidationFailed } from '@mailroom/core';
import {
  defineStatement,
  type Domain,
  type FolderKind,
  type Mailbox,
  type MailboxStatus,
  type TenantScope,
  type Tx,
} from '@mailroom/db';
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

type MailboxListSqlRow = Omit<MailboxListRow, 'domain'> & { domainId: string; domainName: string };

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

const LIST_COLUMNS = `m.id, m.local_part AS "localPart", m.domain_id AS "domainId", d.name AS "domainName",
  m.display_name AS "displayName", m.status::text AS status, m.smtp_enabled AS "smtpEnabled",
  m.imap_enabled AS "imapEnabled", m.pop3_enabled AS "pop3Enabled", COALESCE(m.pop3_folders, '{}') AS "pop3Folders",
  m.pop3_mark_read AS "pop3MarkRead", m.pop3_delete_mode AS "pop3DeleteMode",
  m.used_bytes AS "usedBytes", m.quota_bytes AS "quotaBytes", m.message_count AS "messageCount",
  m.legal_hold AS "legalHold", m.deleted_at AS "deletedAt", m.created_at AS "createdAt",
  m.updated_at AS "updatedAt"`;

/**
 * A search ($6 text or $8 local part) reads only the ids `mailroom_mailbox_search_page` picks
 * for the page: LIKE is not leakproof, so under RLS no index can answer it and the statement
 * alone tests every mailbox of the tenant; the function (migration 20261204170000) runs as the
 * owner within the transaction's tenant, planned for the pattern (trigram indexes for a rare
 * one, the sort order for a common one). The list's own conditions still apply to those rows.
 * With no search the condition is true and the function is not called (custom plans fold it).
 */
function searchPage(field: MailboxSortField, direction: 'asc' | 'desc', cursor: [string, string] | null): string {
  const sort = field === 'localPart' ? 'local_part' : 'created_at';
  // The cursor's value as text: a createdAt (a timestamptz parameter in this statement) as JSON
  // writes it, ISO 8601 with its offset whatever the session's DateStyle (plain ::text follows it).
  const [value, id] = cursor
    ? [
        field === 'localPart' ? `${cursor[0]}::text` : `to_json(${cursor[0]}::timestamptz) #>> '{}'`,
        `${cursor[1]}::uuid`,
      ]
    : ['NULL', 'NULL'];
  return `AND (($6::text IS NULL AND $8::text IS NULL) OR m.id = ANY (ARRAY(
         SELECT mailroom_mailbox_search_page('${sort}', ${direction === 'desc'}, $2::int, $3::text, $4::text[],
           $5::text, $6::text, $7::text, $8::text, $9::text, ${value}, ${id}))))`;
}

/**
 * The list as fixed statements, one per sort field, direction and page (first, or after a
 * cursor's row), each walking its (tenant_id, sort column, id) index; `filtered` adds the
 * optional filters as parameters (null or empty: no filter).
 *
 * Unfiltered (the dashboard's list and its pages): $1 tenant, $2 limit, $3/$4 the cursor's row.
 * Every status but deleted.
 *
 * Filtered: $1 tenant, $2 limit, $3 status (null: every status but deleted), $4 domain names a
 * domain-limited credential may see (empty: all), $5 a domain name, $6/$7 a search in local part
 * (lower case) or display name, $8/$9 `local@domain-prefix`, $10/$11 the cursor's row.
 *
 * All are planned for their parameters at each run (`customPlans`): a generic plan cannot know
 * which filters are on, nor the tenant's size (estimated as the average tenant's, it joins
 * through the domain and sorts: for a tenant of 10,000 mailboxes that is the whole tenant
 * sorted for one page), while the custom plan walks the sort index and stops after the page
 * (bench/statement-plans.mjs shows both).
 *
 * Status is compared as text: enum operators are not leakproof, so under row-level security
 * the planner may not use the column's statistics for them, estimated one row, and read and
 * sorted the whole tenant instead of walking the index (13 to 27 ms a page). The searches are
 * like Prisma's `contains` (LIKE '%' || x || '%', the parameter not escaped), as the list
 * answered when it was a findMany.
 */
function listStatement(field: MailboxSortField, direction: 'asc' | 'desc', after: boolean, filtered: boolean) {
  const column = field === 'localPart' ? 'm.local_part' : 'm.created_at';
  // The cursor's row comes last: $3/$4 unfiltered, $10/$11 filtered.
  const [v, id] = filtered ? ['$10', '$11'] : ['$3', '$4'];
  const value = field === 'localPart' ? `${v}::text` : `${v}::timestamptz`;
  const dir = direction === 'asc' ? 'ASC' : 'DESC';
  const op = direction === 'asc' ? '>' : '<';
  // A row comparison, which the (tenant_id, sort column, id) index answers as a range: a page
  // deep in a big tenant starts where the cursor is instead of walking up to it.
  const keyset = after ? `AND (${column}, m.id) ${op} (${value}, ${id}::uuid)` : '';
  const filters = filtered
    ? `AND (m.status::text = $3::text OR ($3::text IS NULL AND m.status::text <> 'deleted'))
       AND (cardinality($4::text[]) = 0 OR d.name = ANY ($4::text[]))
       AND ($5::text IS NULL OR d.name = $5::text)
       AND ($6::text IS NULL OR m.local_part LIKE ('%' || $6::text || '%')
            OR m.display_name ILIKE ('%' || $7::text || '%'))
       AND ($8::text IS NULL OR m.local_part LIKE ('%' || $8::text || '%'))
       AND ($9::text IS NULL OR d.name LIKE ($9::text || '%'))
       ${searchPage(field, direction, after ? [v, id] : null)}`
    : `AND m.status::text <> 'deleted'`;
  const sort = field === 'localPart' ? 'local_part' : 'created_at';
  const name = `api_mailbox_list_${filtered ? 'filtered_' : ''}${sort}_${direction}${after ? '_after' : ''}`;
  return defineStatement<MailboxListSqlRow>(
    name,
    `SELECT ${LIST_COLUMNS}
       FROM mailboxes m
       JOIN domains d ON d.tenant_id = m.tenant_id AND d.id = m.domain_id
      WHERE m.tenant_id = $1::uuid ${keyset}
        ${filters}
      ORDER BY ${column} ${dir}, m.id ${dir}
      LIMIT $2::int`,
    { customPlans: true },
  );
}

const LIST = new Map<string, ReturnType<typeof listStatement>>();
for (const field of ['localPart', 'createdAt'] as const) {
  for (const direction of ['asc', 'desc'] as const) {
    for (const after of [false, true]) {
      for (const filtered of [false, true]) {
        LIST.set(`${field} ${direction} ${after} ${filtered}`, listStatement(field, direction, after, filtered));
      }
    }
  }
}

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

/** Mailboxes (their rows and default folders; messages are the mail store's). */
@Injectable()
export class MailboxRepository {
  /**
   * A keyset page of mailboxes with their domain's name: one statement (a join), and only the
   * columns a list shows. The hottest read of the API: a named prepared statement run in one
   * round trip with its RLS scope (see `Statement.readInTenant`), one per sort and page shape.
   */
  async list(
    scope: TenantScope,
    filter: MailboxListFilter,
    page: SqlPageWindow<MailboxSortField>,
  ): Promise<MailboxListRow[]> {
    const search = filter.search;
    const after = page.after;
    if (after && (!UUID.test(after.id) || (after.value instanceof Date && Number.isNaN(after.value.getTime())))) {
      throw new ValidationFailed('The request has invalid fields.', [
        { field: 'cursor', message: 'is not a cursor this API returned' },
      ]);
    }
    const filtered =
      filter.status !== undefined ||
      filter.onlyDomains.length > 0 ||
      filter.domainName !== undefined ||
      search !== undefined;
    const params: unknown[] = [scope.tenantId, page.take];
    if (filtered) {
      const text = search && 'text' in search ? search.text : null;
      params.push(
        filter.status ?? null,
        [...filter.onlyDomains],
        filter.domainName ?? null,
        text?.toLowerCase() ?? null,
        text,
        search && 'localPart' in search ? search.localPart.toLowerCase() : null,
        search && 'localPart' in search ? search.domainPrefix : null,
      );
    }
    if (after) params.push(after.value, after.id);
    const statement = LIST.get(`${page.sort.field} ${page.sort.direction} ${after !== null} ${filtered}`);
    if (!statement) throw new Error(`no mailbox list statement for sort ${page.sort.field}`);
    const rows = await statement.readInTenant(scope, params);
    // Built field by field: a rest spread per row cost more than the rest of the mapping.
    return rows.map((m) => ({
      id: m.id,
      localPart: m.localPart,
      domain: { id: m.domainId, name: m.domainName },
      displayName: m.displayName,
      status: m.status,
      smtpEnabled: m.smtpEnabled,
      imapEnabled: m.imapEnabled,
      pop3Enabled: m.pop3Enabled,
      pop3Folders: m.pop3Folders,
      pop3MarkRead: m.pop3MarkRead,
      pop3DeleteMode: m.pop3DeleteMode,
      usedBytes: BigInt(m.usedBytes),
      quotaBytes: BigInt(m.quotaBytes),
      messageCount: m.messageCount,
      legalHold: m.legalHold,
      deletedAt: m.deletedAt,
      createdAt: m.createdAt,
      updatedAt: m.updatedAt,
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
