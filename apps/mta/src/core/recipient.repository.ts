import type { PrismaClient } from '@mailroom/db';
import { tenantUsage } from '@mailroom/mailstore';

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

/** A domain found by its name, with the tenant that owns it (one query per RCPT, not two). */
export interface NamedDomainRow extends DomainRow {
  tenant: TenantRow;
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

/** What one domain holds under a set of local parts: mailboxes and enabled aliases. */
export interface LocalPartRows {
  mailboxes: Map<string, MailboxRow>;
  aliases: Map<string, AliasRow>;
}

interface DomainSqlRow {
  tenant_id: string;
  id: string;
  name: string;
  status: string;
  alias_of_id: string | null;
  deleted_at: Date | null;
}

interface NamedDomainSqlRow extends DomainSqlRow {
  t_status: TenantRow['status'];
  t_quota: bigint;
  t_junk: number | null;
  t_reject: number | null;
}

interface LocalPartSqlRow {
  kind: 'mailbox' | 'alias';
  id: string;
  local_part: string;
  status: MailboxRow['status'] | null;
  quota_bytes: bigint | null;
  used_bytes: bigint | null;
  spam_junk_threshold: number | null;
  destinations: string[] | null;
}

function toDomain(row: DomainSqlRow): DomainRow {
  return {
    tenantId: row.tenant_id,
    id: row.id,
    name: row.name,
    status: row.status,
    aliasOfId: row.alias_of_id,
    deletedAt: row.deleted_at,
  };
}

/**
 * Reads for recipient resolution. The MTA connects as the owning role, so no RLS applies.
 * These run several times per recipient on every message, so they are single SQL statements
 * ($queryRaw costs a third of a Prisma model query's CPU, and one statement replaces up to five).
 */
export class RecipientRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /** domains.name is unique across tenants: this is how a recipient finds its tenant. */
  async findDomainByName(name: string): Promise<NamedDomainRow | null> {
    const [row] = await this.prisma.$queryRaw<NamedDomainSqlRow[]>`
      SELECT d.tenant_id::text, d.id::text, d.name, d.status::text, d.alias_of_id::text, d.deleted_at,
             t.status::text AS t_status, t.storage_quota_bytes AS t_quota,
             t.spam_junk_threshold AS t_junk, t.spam_reject_threshold AS t_reject
      FROM domains d JOIN tenants t ON t.id = d.tenant_id
      WHERE d.name = ${name}`;
    if (!row) return null;
    return {
      ...toDomain(row),
      tenant: {
        id: row.tenant_id,
        status: row.t_status,
        storageQuotaBytes: row.t_quota,
        spamJunkThreshold: row.t_junk,
        spamRejectThreshold: row.t_reject,
      },
    };
  }

  async findDomain(tenantId: string, id: string): Promise<DomainRow | null> {
    const [row] = await this.prisma.$queryRaw<DomainSqlRow[]>`
      SELECT tenant_id::text, id::text, name, status::text, alias_of_id::text, deleted_at
      FROM domains WHERE tenant_id = ${tenantId}::uuid AND id = ${id}::uuid`;
    return row ? toDomain(row) : null;
  }

  /**
   * Mailboxes and enabled aliases of one domain under any of `localParts`, in one statement;
   * the resolver applies the order (mailbox, alias, sub-address, catch-all).
   */
  async findLocalParts(tenantId: string, domainId: string, localParts: string[]): Promise<LocalPartRows> {
    const rows = await this.prisma.$queryRaw<LocalPartSqlRow[]>`
      SELECT 'mailbox' AS kind, id::text, local_part, status::text, quota_bytes, used_bytes, spam_junk_threshold,
             NULL::text[] AS destinations
      FROM mailboxes
      WHERE tenant_id = ${tenantId}::uuid AND domain_id = ${domainId}::uuid AND local_part = ANY(${localParts}::text[])
      UNION ALL
      SELECT 'alias', id::text, local_part, NULL, NULL, NULL, NULL, destinations
      FROM aliases
      WHERE tenant_id = ${tenantId}::uuid AND domain_id = ${domainId}::uuid AND enabled
        AND local_part = ANY(${localParts}::text[])`;
    const out: LocalPartRows = { mailboxes: new Map(), aliases: new Map() };
    for (const row of rows) {
      if (row.kind === 'mailbox') {
        out.mailboxes.set(row.local_part, {
          tenantId,
          id: row.id,
          domainId,
          localPart: row.local_part,
          status: row.status ?? 'active',
          quotaBytes: row.quota_bytes ?? 0n,
          usedBytes: row.used_bytes ?? 0n,
          spamJunkThreshold: row.spam_junk_threshold,
        });
      } else {
        out.aliases.set(row.local_part, {
          tenantId,
          id: row.id,
          localPart: row.local_part,
          destinations: row.destinations ?? [],
        });
      }
    }
    return out;
  }

  /**
   * The newest forward sent with this (SRS) envelope sender, across tenants: an SRS address
   * carries no tenant. SRS0 addresses are only answered when one exists.
   */
  async findForwardBySender(envelopeFrom: string): Promise<{ tenantId: string; fromDomain: string } | null> {
    const [row] = await this.prisma.$queryRaw<Array<{ tenant_id: string; from_domain: string }>>`
      SELECT tenant_id::text, from_domain FROM outbound_messages
      WHERE kind = 'forward' AND envelope_from = ${envelopeFrom}
      ORDER BY created_at DESC LIMIT 1`;
    return row ? { tenantId: row.tenant_id, fromDomain: row.from_domain } : null;
  }

  /** Cached per tenant (see TenantUsage): summing every mailbox per recipient does not scale. */
  async tenantUsedBytes(tenantId: string): Promise<bigint> {
    return tenantUsage.used(this.prisma, tenantId);
  }
}
