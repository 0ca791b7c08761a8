import { Injectable } from '@nestjs/common';
import { Conflict, ValidationFailed } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import { asciiDomain } from '@mailroom/mail';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { TenantDb } from '../infra/tenant-db.service';
import { checkQuotaAgainstPlan, hashPassword } from './mailbox-creator.service';
import { MailboxScope, type MailboxWithDomain } from './mailbox-scope';
import { MailboxRepository, type MailboxListFilter } from './mailbox.repository';
import type { ListMailboxesQuery, SetPasswordDto, UpdateMailboxDto } from './mailbox.dto';
import { presentMailbox, type MailboxView } from './mailbox.presenter';
import { generatePassword, passwordProblem } from './password-policy';
import { resolvePop3Folders } from './pop3-folders';

/** `local@domain` searches a local part and a domain prefix; anything else a local part or name. */
function parseSearch(q: string | undefined): MailboxListFilter['search'] {
  if (!q) return undefined;
  const at = q.lastIndexOf('@');
  if (at < 0) return { text: q };
  const domain = q.slice(at + 1);
  return { localPart: q.slice(0, at), domainPrefix: domain ? (asciiDomain(domain) ?? domain.toLowerCase()) : null };
}

/** Reads and changes mailboxes; creation is MailboxCreator's. */
@Injectable()
export class MailboxesService {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly mailboxes: MailboxRepository,
  ) {}

  async list(call: CallContext, tenant: Tenant, query: ListMailboxesQuery): Promise<Page<MailboxView>> {
    const page = keyset(
      parseSort(query.sort, ['localPart', 'createdAt'] as const, 'localPart'),
      query.cursor,
      query.limit,
    );
    const domainName = query.domain ? (asciiDomain(query.domain) ?? query.domain.toLowerCase()) : undefined;
    const rows = await this.db.tenantScoped(tenant.id, (scope) =>
      this.mailboxes.list(
        scope,
        { onlyDomains: call.principal.domains, status: query.status, domainName, search: parseSearch(query.q) },
        page,
      ),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentMailbox), nextCursor };
  }

  async get(call: CallContext, tenant: Tenant, mailboxId: string): Promise<MailboxView> {
    return presentMailbox(
      await this.db.tenantRead(tenant.id, (tx) => this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId)),
    );
  }

  async update(call: CallContext, tenant: Tenant, mailboxId: string, dto: UpdateMailboxDto): Promise<MailboxView> {
    if (dto.quotaBytes !== undefined) checkQuotaAgainstPlan(tenant, BigInt(dto.quotaBytes));
    const updated = await this.db.tenant(tenant.id, async (tx) => {
      const before = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(before);
      const pop3Folders = dto.pop3?.folders
        ? resolvePop3Folders(dto.pop3.folders, await this.mailboxes.folders(tx, tenant.id, before.id))
        : undefined;
      const after = await this.mailboxes.update(tx, tenant.id, before.id, {
        displayName: dto.displayName === undefined ? undefined : dto.displayName?.trim() || null,
        quotaBytes: dto.quotaBytes === undefined ? undefined : BigInt(dto.quotaBytes),
        status: dto.status,
        smtpEnabled: dto.protocols?.smtp,
        imapEnabled: dto.protocols?.imap,
        pop3Enabled: dto.protocols?.pop3,
        pop3Folders,
        pop3MarkRead: dto.pop3?.markRead,
        pop3DeleteMode: dto.pop3?.deleteMode,
      });
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'mailbox.update',
        targetType: 'mailbox',
        targetId: before.id,
        before: presentMailbox(before),
        after: presentMailbox(after),
      });
      return after;
    });
    return presentMailbox(updated);
  }

  /**
   * Marks the mailbox deleted: from this commit on the MTA refuses mail to it and logins fail.
   * The worker purges its folders and messages afterwards; only then is the address free again.
   * Deleting a deleted mailbox changes nothing.
   */
  async remove(call: CallContext, tenant: Tenant, mailboxId: string): Promise<MailboxView> {
    const removed = await this.db.tenant(tenant.id, async (tx) => {
      const before = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      if (before.status === 'deleted') return before;
      if (before.legalHold || tenant.legalHold) {
        throw new Conflict(
          `${before.localPart}@${before.domain.name} is under legal hold; lift the hold before deleting it.`,
        );
      }
      const marked = await this.mailboxes.markDeleted(tx, tenant.id, before.id, new Date());
      const after = (await this.mailboxes.find(tx, tenant.id, before.id))!;
      if (!marked) return after;
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'mailbox.delete',
        targetType: 'mailbox',
        targetId: before.id,
        before: presentMailbox(before),
        after: presentMailbox(after),
      });
      return after;
    });
    return presentMailbox(removed);
  }

  async setPassword(
    call: CallContext,
    tenant: Tenant,
    mailboxId: string,
    dto: SetPasswordDto,
  ): Promise<{ id: string; address: string; password?: string }> {
    const generated = dto.generate ? generatePassword() : null;
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(mailbox);
      const password = generated ?? dto.password!;
      const weak = passwordProblem(password, mailbox.localPart);
      if (weak) throw new ValidationFailed('The request has invalid fields.', [{ field: 'password', message: weak }]);
      await this.mailboxes.update(tx, tenant.id, mailbox.id, { passwordHash: await hashPassword(password) });
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'mailbox.password_reset',
        targetType: 'mailbox',
        targetId: mailbox.id,
        after: { generated: generated !== null },
      });
      const address = `${mailbox.localPart}@${mailbox.domain.name}`;
      return generated ? { id: mailbox.id, address, password: generated } : { id: mailbox.id, address };
    });
  }
}

export function assertLive(mailbox: MailboxWithDomain): void {
  if (mailbox.status === 'deleted') {
    throw new Conflict(`${mailbox.localPart}@${mailbox.domain.name} is deleted; its data is being purged.`);
  }
}
