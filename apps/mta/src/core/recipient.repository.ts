import { defineStatement, type PrismaClient } from '@mailroom/db';
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
  /** The domain's own mailboxes and aliases under the local parts asked for with it. */
  localParts: LocalPartRows;
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
  /** Whether the mailbox has an enabled filter rule, vacation reply or forwarding rule. */
  hasRules: boolean;
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

interface LocalPartSqlRow {
  kind: 'mailbox' | 'alias' | null;
  id: string | null;
  local_part: string;
  status: MailboxRow['status'] | null;
  quota_bytes: bigint | null;
  used_bytes: bigint | null;
  spam_junk_threshold: number | null;
  has_rules: boolean | null;
  destinations: string[] | null;
}

interface NamedDomainSqlRow extends DomainSqlRow {
  t_status: TenantRow['status'];
  t_quota: bigint;
  t_junk: number | null;
  t_reject: number | null;
  p_kind: LocalPartSqlRow['kind'];
  p_id: string | null;
  p_local_part: string;
  p_status: LocalPartSqlRow['status'];
  p_quota: bigint | null;
  p_used: bigint | null;
  p_junk: number | null;
  p_rules: boolean | null;
  p_destinations: string[] | null;
}

/** Mailbox and alias rows of one domain, by local part. */
function toLocalParts(tenantId: string, domainId: string, rows: LocalPartSqlRow[]): LocalPartRows {
  const out: LocalPartRows = { mailboxes: new Map(), aliases: new Map() };
  for (const row of rows) {
    if (row.id === null) continue;
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
        hasRules: row.has_rules ?? true,
      });
    } else if (row.kind === 'alias') {
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
 * Whether mailbox `m` has anything the delivery plan reads settings for (an enabled filter rule,
 * vacation reply or forwarding rule): a message whose mailboxes have none skips that read.
 */
const HAS_RULES = `(
  EXISTS (SELECT 1 FROM filter_rules f WHERE f.tenant_id = m.tenant_id AND f.mailbox_id = m.id AND f.enabled)
  OR EXISTS (SELECT 1 FROM vacation_replies v WHERE v.tenant_id = m.tenant_id AND v.mailbox_id = m.id AND v.enabled)
  OR EXISTS (SELECT 1 FROM forwarding_rules r WHERE r.tenant_id = m.tenant_id AND r.mailbox_id = m.id AND r.enabled))`;

// Named prepared statements (parsed and planned once per pooled connection): these run for
// every RCPT. Their generic plans were checked against a big and a small tenant (bench/statement-plans.mjs).

/** $1 domain name, $2 local parts. */
const DOMAIN_BY_NAME = defineStatement<NamedDomainSqlRow, [string, string[]]>(
  'rcpt_domain_by_name',
  `SELECT d.tenant_id::text, d.id::text, d.name, d.status::text, d.alias_of_id::text, d.deleted_at,
          t.status::text AS t_status, t.storage_quota_bytes AS t_quota,
          t.spam_junk_threshold AS t_junk, t.spam_reject_threshold AS t_reject,
          p.kind AS p_kind, p.id AS p_id, p.local_part AS p_local_part, p.status AS p_status,
          p.quota_bytes AS p_quota, p.used_bytes AS p_used, p.spam_junk_threshold AS p_junk, p.has_rules AS p_rules,
          p.destinations AS p_destinations
   FROM domains d JOIN tenants t ON t.id = d.tenant_id
   LEFT JOIN LATERAL (
     SELECT 'mailbox' AS kind, m.id::text, m.local_part, m.status::text, m.quota_bytes, m.used_bytes,
            m.spam_junk_threshold, ${HAS_RULES} AS has_rules, NULL::text[] AS destinations
     FROM mailboxes m
     WHERE m.tenant_id = d.tenant_id AND m.domain_id = d.id AND m.local_part = ANY($2::text[])
     UNION ALL
     SELECT 'alias', a.id::text, a.local_part, NULL, NULL, NULL, NULL, NULL, a.destinations
     FROM aliases a
     WHERE a.tenant_id = d.tenant_id AND a.domain_id = d.id AND a.enabled
       AND a.local_part = ANY($2::text[])
   ) p ON true
   WHERE d.name = $1`,
);

/** $1 tenant id, $2 domain id. */
const DOMAIN_BY_ID = defineStatement<DomainSqlRow, [string, string]>(
  'rcpt_domain_by_id',
  `SELECT tenant_id::text, id::text, name, status::text, alias_of_id::text, deleted_at
   FROM domains WHERE tenant_id = $1::uuid AND id = $2::uuid`,
);

/** $1 tenant id, $2 domain id, $3 local parts. */
const LOCAL_PARTS = defineStatement<LocalPartSqlRow, [string, string, string[]]>(
  'rcpt_local_parts',
  `SELECT 'mailbox' AS kind, m.id::text, m.local_part, m.status::text, m.quota_bytes, m.used_bytes,
          m.spam_junk_threshold, ${HAS_RULES} AS has_rules, NULL::text[] AS destinations
   FROM mailboxes m
   WHERE m.tenant_id = $1::uuid AND m.domain_id = $2::uuid AND m.local_part = ANY($3::text[])
   UNION ALL
   SELECT 'alias', id::text, local_part, NULL, NULL, NULL, NULL, NULL, destinations
   FROM aliases
   WHERE tenant_id = $1::uuid AND domain_id = $2::uuid AND enabled AND local_part = ANY($3::text[])`,
);

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
 * These run several times per recipient on every message, so they are single SQL statements,
 * named and prepared (no Prisma query compiler, no parse or plan per run).
 */
export class RecipientRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * domains.name is unique across tenants: this is how a recipient finds its tenant. With
   * `localParts`, the domain's own mailboxes and aliases under them come in the same statement
   * (what {@link findLocalParts} would read next for a domain that is not an alias).
   */
  async findDomainByName(name: string, localParts: string[] = []): Promise<NamedDomainRow | null> {
    const rows = await DOMAIN_BY_NAME.run(this.prisma, [name, localParts]);
    const row = rows[0];
    if (!row) return null;
    return {
      localParts: toLocalParts(
        row.tenant_id,
        row.id,
        rows.map((r) => ({
          kind: r.p_kind,
          id: r.p_id,
          local_part: r.p_local_part,
          status: r.p_status,
          quota_bytes: r.p_quota,
          used_bytes: r.p_used,
          spam_junk_threshold: r.p_junk,
          has_rules: r.p_rules,
          destinations: r.p_destinations,
        })),
      ),
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
    const [row] = await DOMAIN_BY_ID.run(this.prisma, [tenantId, id]);
    return row ? toDomain(row) : null;
  }

  /**
   * Mailboxes and enabled aliases of one domain under any of `localParts`, in one statement;
   * the resolver applies the order (mailbox, alias, sub-address, catch-all).
   */
  async findLocalParts(tenantId: string, domainId: string, localParts: string[]): Promise<LocalPartRows> {
    const rows = await LOCAL_PARTS.run(this.prisma, [tenantId, domainId, localParts]);
    return toLocalParts(tenantId, domainId, rows);
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
