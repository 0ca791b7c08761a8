import { Prisma, type Db } from '@mailroom/db';
import type { IpAccessRule, IpService } from '@mailroom/rules';
import type { AccessService, Pop3DeleteMode } from './access-types';

/** Everything a login decides on, read in one query. */
export interface AccountRow {
  tenantId: string;
  mailboxId: string;
  domainId: string;
  localPart: string;
  domainName: string;
  passwordHash: string;
  mailboxStatus: 'active' | 'disabled' | 'deleted';
  smtpEnabled: boolean;
  imapEnabled: boolean;
  pop3Enabled: boolean;
  authVersion: number;
  quotaBytes: bigint;
  usedBytes: bigint;
  domainStatus: string;
  domainDeleted: boolean;
  tenantStatus: 'active' | 'suspended' | 'deleted';
  pop3FolderNames: string[];
  pop3MarkRead: boolean;
  pop3DeleteMode: Pop3DeleteMode;
  /** The tenant's IP rules for this service, by priority. */
  ipRules: IpAccessRule[];
  /** The Inbox and the folders pop3_folders names (resolved by the caller). */
  folders: Array<{ id: string; name: string; kind: string }>;
}

interface RawAccount {
  tenant_id: string;
  mailbox_id: string;
  domain_id: string;
  local_part: string;
  domain_name: string;
  password_hash: string;
  mailbox_status: AccountRow['mailboxStatus'];
  smtp_enabled: boolean;
  imap_enabled: boolean;
  pop3_enabled: boolean;
  auth_version: number;
  quota_bytes: bigint;
  used_bytes: bigint;
  domain_status: string;
  domain_deleted: boolean;
  tenant_status: AccountRow['tenantStatus'];
  pop3_folders: string[] | null;
  pop3_mark_read: boolean;
  pop3_delete_mode: Pop3DeleteMode;
  ip_rules: IpAccessRule[];
  folders: AccountRow['folders'];
}

/** The IP-rule service a protocol is filtered by (ip_access_rules.service). */
export function ipService(service: AccessService): IpService {
  return service === 'smtp' ? 'submission' : service;
}

function ipRulesSql(service: AccessService): Prisma.Sql {
  return Prisma.sql`(SELECT coalesce(json_agg(json_build_object('cidr', r.cidr, 'action', r.action,
      'service', r.service, 'priority', r.priority) ORDER BY r.priority), '[]'::json)
    FROM ip_access_rules r
   WHERE r.tenant_id = m.tenant_id AND r.service = ${ipService(service)}::"IpRuleService")`;
}

/** The Inbox (always) and the folders pop3_folders names; 'INBOX' is matched by kind later. */
function foldersSql(): Prisma.Sql {
  return Prisma.sql`(SELECT coalesce(json_agg(json_build_object('id', f.id, 'name', f.name, 'kind', f.kind)), '[]'::json)
    FROM folders f
   WHERE f.tenant_id = m.tenant_id AND f.mailbox_id = m.id AND (f.kind = 'inbox' OR f.name = ANY(m.pop3_folders)))`;
}

function toRow(r: RawAccount): AccountRow {
  return {
    tenantId: r.tenant_id,
    mailboxId: r.mailbox_id,
    domainId: r.domain_id,
    localPart: r.local_part,
    domainName: r.domain_name,
    passwordHash: r.password_hash,
    mailboxStatus: r.mailbox_status,
    smtpEnabled: r.smtp_enabled,
    imapEnabled: r.imap_enabled,
    pop3Enabled: r.pop3_enabled,
    authVersion: r.auth_version,
    quotaBytes: r.quota_bytes,
    usedBytes: r.used_bytes,
    domainStatus: r.domain_status,
    domainDeleted: r.domain_deleted,
    tenantStatus: r.tenant_status,
    pop3FolderNames: r.pop3_folders ?? ['INBOX'],
    pop3MarkRead: r.pop3_mark_read,
    pop3DeleteMode: r.pop3_delete_mode,
    ipRules: r.ip_rules,
    folders: r.folders,
  };
}

/**
 * Reads for IMAP, POP3 and submission logins. The apps connect as the owning role, so RLS does
 * not apply: the tenant filters here are the wall. Domain names are unique across tenants, so
 * a login names at most one mailbox.
 */
export class AccessRepository {
  constructor(private readonly db: Db) {}

  /** The mailbox of `localKey@domainName`, with its domain, tenant, IP rules and POP3 folders. */
  async findByAddress(domainName: string, localKey: string, service: AccessService): Promise<AccountRow | null> {
    const rows = await this.db.$queryRaw<RawAccount[]>`
      SELECT m.tenant_id::text, m.id::text AS mailbox_id, m.domain_id::text, m.local_part,
             d.name AS domain_name, m.password_hash, m.status::text AS mailbox_status,
             m.smtp_enabled, m.imap_enabled, m.pop3_enabled, m.auth_version, m.quota_bytes, m.used_bytes,
             d.status::text AS domain_status, d.deleted_at IS NOT NULL AS domain_deleted,
             t.status::text AS tenant_status, m.pop3_folders, m.pop3_mark_read, m.pop3_delete_mode,
             ${ipRulesSql(service)} AS ip_rules, ${foldersSql()} AS folders
        FROM domains d
        JOIN mailboxes m ON m.tenant_id = d.tenant_id AND m.domain_id = d.id AND m.local_part = ${localKey}
        JOIN tenants t ON t.id = d.tenant_id
       WHERE d.name = ${domainName}`;
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** The same row by id: what a cache hit re-reads (status, flags and auth_version may have moved). */
  async findById(tenantId: string, mailboxId: string, service: AccessService): Promise<AccountRow | null> {
    const rows = await this.db.$queryRaw<RawAccount[]>`
      SELECT m.tenant_id::text, m.id::text AS mailbox_id, m.domain_id::text, m.local_part,
             d.name AS domain_name, m.password_hash, m.status::text AS mailbox_status,
             m.smtp_enabled, m.imap_enabled, m.pop3_enabled, m.auth_version, m.quota_bytes, m.used_bytes,
             d.status::text AS domain_status, d.deleted_at IS NOT NULL AS domain_deleted,
             t.status::text AS tenant_status, m.pop3_folders, m.pop3_mark_read, m.pop3_delete_mode,
             ${ipRulesSql(service)} AS ip_rules, ${foldersSql()} AS folders
        FROM mailboxes m
        JOIN domains d ON d.tenant_id = m.tenant_id AND d.id = m.domain_id
        JOIN tenants t ON t.id = m.tenant_id
       WHERE m.tenant_id = ${tenantId}::uuid AND m.id = ${mailboxId}::uuid`;
    return rows[0] ? toRow(rows[0]) : null;
  }

  /** The live app password of this mailbox with this hash (unique index on tenant, hash). */
  async findAppPassword(
    tenantId: string,
    mailboxId: string,
    secretHash: string,
  ): Promise<{ id: string; protocols: string[] } | null> {
    return this.db.appPassword.findFirst({
      where: { tenantId, secretHash, mailboxId, revokedAt: null },
      select: { id: true, protocols: true },
    });
  }

  /** Records a use, unless one was recorded in the last minute (by any process). */
  async touchAppPassword(tenantId: string, id: string, ip: string, at: Date): Promise<void> {
    await this.db.appPassword.updateMany({
      where: {
        tenantId,
        id,
        OR: [{ lastUsedAt: null }, { lastUsedAt: { lt: new Date(at.getTime() - 60_000) } }],
      },
      data: { lastUsedAt: at, lastUsedIp: ip },
    });
  }

  /**
   * Replaces a mailbox password hash with a hash of the same password under the current
   * parameters, unless the hash changed since it was read (a password change wins). The password
   * is the same, so auth_version stays and no session or cached login ends.
   */
  async rehashPassword(tenantId: string, mailboxId: string, oldHash: string, newHash: string): Promise<boolean> {
    // The setting (for this statement's transaction only) tells the auth_version trigger that the
    // password did not change; the joined subquery runs before the row's BEFORE UPDATE trigger.
    const updated = await this.db.$executeRaw`
      UPDATE mailboxes SET password_hash = ${newHash}
        FROM (SELECT set_config('mailroom.password_rehash', 'on', true)) AS rehash
       WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid AND password_hash = ${oldHash}`;
    return updated === 1;
  }

  /** The mailbox's current auth_version, or null when it is gone. */
  async authVersion(tenantId: string, mailboxId: string): Promise<number | null> {
    const row = await this.db.mailbox.findUnique({
      where: { tenantId_id: { tenantId, id: mailboxId } },
      select: { authVersion: true, status: true },
    });
    return row && row.status !== 'deleted' ? row.authVersion : null;
  }
}
