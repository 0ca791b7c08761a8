import { Injectable } from '@nestjs/common';
import type { RetentionPolicy, Tenant } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import { assertLive } from '../mailboxes/mailboxes.service';
import { addressOf, MailboxScope, type MailboxWithDomain } from '../mailboxes/mailbox-scope';
import { RetentionRepository } from './retention.repository';
import {
  DEFAULT_DAYS,
  FOLDER_KINDS,
  type FolderKindName,
  type ListMailboxRetentionQuery,
  type PutMailboxRetentionDto,
  type PutTenantRetentionDto,
} from './retention.dto';

type Days = Record<FolderKindName, number | null>;
type DaysGiven = Partial<Record<FolderKindName, number | undefined>>;

function toMap(rows: Pick<RetentionPolicy, 'folderKind' | 'days'>[]): Partial<Record<FolderKindName, number>> {
  return Object.fromEntries(rows.map((r) => [r.folderKind, r.days]));
}

function effective(
  tenant: Partial<Record<FolderKindName, number>>,
  mailbox: Partial<Record<FolderKindName, number>> = {},
): Days {
  return Object.fromEntries(FOLDER_KINDS.map((k) => [k, mailbox[k] ?? tenant[k] ?? DEFAULT_DAYS[k] ?? null])) as Days;
}

function given(days: DaysGiven): [FolderKindName, number][] {
  return FOLDER_KINDS.flatMap((k) => (days[k] === undefined ? [] : [[k, days[k]] as [FolderKindName, number]]));
}

/**
 * Retention configuration: days to keep mail per folder kind, for the tenant and overridden
 * per mailbox. The worker's retention job enforces it (never on legal hold). Rows with
 * mailbox_id NULL are not kept unique by the database (NULLs are distinct), so every write
 * replaces the set under a row lock.
 */
@Injectable()
export class RetentionService {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly policies: RetentionRepository,
  ) {}

  async getTenant(tenant: Tenant) {
    return this.db.tenant(tenant.id, async (tx) => this.tenantView(tx, tenant.id));
  }

  async putTenant(call: CallContext, tenant: Tenant, dto: PutTenantRetentionDto) {
    return this.db.tenant(tenant.id, async (tx) => {
      await this.policies.lockTenant(tx, tenant.id);
      const before = await this.tenantView(tx, tenant.id);
      await this.policies.replace(tx, tenant.id, null, given(dto.days));
      const after = await this.tenantView(tx, tenant.id);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'retention.update',
        targetType: 'tenant',
        targetId: tenant.id,
        before,
        after,
      });
      return after;
    });
  }

  async listMailboxes(call: CallContext, tenant: Tenant, query: ListMailboxRetentionQuery) {
    const page = keyset(parseSort(query.sort, ['createdAt'] as const, 'createdAt'), query.cursor, query.limit);
    return this.db.tenant(tenant.id, async (tx) => {
      const tenantDays = toMap(await this.policies.policies(tx, tenant.id));
      const rows = await this.policies.mailboxesWithOverrides(tx, tenant.id, call.principal.domains, page);
      const { rows: items, nextCursor } = page.page(rows);
      return {
        items: items.map((m) => this.mailboxView(m, m.retentionPolicies, tenantDays)),
        nextCursor,
      } satisfies Page<unknown>;
    });
  }

  async getMailbox(call: CallContext, tenant: Tenant, mailboxId: string) {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      return this.mailboxViewFromDb(tx, tenant.id, mailbox);
    });
  }

  async putMailbox(call: CallContext, tenant: Tenant, mailboxId: string, dto: PutMailboxRetentionDto) {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(mailbox);
      await this.scope.lockMailbox(tx, tenant.id, mailbox.id);
      const before = await this.mailboxViewFromDb(tx, tenant.id, mailbox);
      await this.policies.replace(tx, tenant.id, mailbox.id, given(dto.days));
      const after = await this.mailboxViewFromDb(tx, tenant.id, mailbox);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'retention.mailbox_update',
        targetType: 'mailbox',
        targetId: mailbox.id,
        before,
        after,
      });
      return after;
    });
  }

  /** Removes a mailbox's overrides: it follows the tenant policy again. */
  async removeMailbox(call: CallContext, tenant: Tenant, mailboxId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      const before = await this.mailboxViewFromDb(tx, tenant.id, mailbox);
      if ((await this.policies.remove(tx, tenant.id, mailbox.id)) === 0) return;
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'retention.mailbox_delete',
        targetType: 'mailbox',
        targetId: mailbox.id,
        before,
      });
    });
  }

  private async tenantView(tx: Tx, tenantId: string) {
    const configured = toMap(await this.policies.policies(tx, tenantId));
    return { days: effective(configured), configured };
  }

  private async mailboxViewFromDb(tx: Tx, tenantId: string, mailbox: MailboxWithDomain) {
    const rows = await this.policies.policies(tx, tenantId, mailbox.id);
    const tenantDays = toMap(rows.filter((r) => r.mailboxId === null));
    return this.mailboxView(
      mailbox,
      rows.filter((r) => r.mailboxId !== null),
      tenantDays,
    );
  }

  private mailboxView(
    mailbox: MailboxWithDomain,
    own: RetentionPolicy[],
    tenantDays: Partial<Record<FolderKindName, number>>,
  ) {
    const overrides = toMap(own);
    return {
      mailboxId: mailbox.id,
      address: addressOf(mailbox),
      overrides,
      effective: effective(tenantDays, overrides),
    };
  }
}
