import { Injectable } from '@nestjs/common';
import { NotFound } from '@mailroom/core';
import type { Tenant, VacationReply } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { TenantDb } from '../infra/tenant-db.service';
import { assertLive } from '../mailboxes/mailboxes.service';
import { MailboxScope } from '../mailboxes/mailbox-scope';
import { FilterRepository } from './filter.repository';
import type { PutVacationDto, VacationResponse } from './vacation.dto';

export function presentVacation(v: VacationReply, now = new Date()): VacationResponse {
  const started = !v.startsAt || v.startsAt <= now;
  const notEnded = !v.endsAt || now < v.endsAt;
  return {
    mailboxId: v.mailboxId,
    enabled: v.enabled,
    subject: v.subject,
    body: v.body,
    startsAt: v.startsAt?.toISOString() ?? null,
    endsAt: v.endsAt?.toISOString() ?? null,
    intervalDays: v.intervalDays,
    activeNow: v.enabled && started && notEnded,
    createdAt: v.createdAt.toISOString(),
    updatedAt: v.updatedAt.toISOString(),
  };
}

/**
 * The vacation auto-reply of a mailbox. The MTA decides each reply with libs/rules
 * shouldAutoReply (RFC 3834): never to the null sender, lists, bulk or auto-submitted mail, and
 * at most once per sender per intervalDays.
 */
@Injectable()
export class VacationService {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly filters: FilterRepository,
  ) {}

  async get(call: CallContext, tenant: Tenant, mailboxId: string): Promise<VacationResponse> {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      const v = await this.filters.findVacation(tx, tenant.id, mailbox.id);
      if (!v) throw new NotFound(`Mailbox ${mailboxId} has no vacation reply.`);
      return presentVacation(v);
    });
  }

  async put(call: CallContext, tenant: Tenant, mailboxId: string, dto: PutVacationDto): Promise<VacationResponse> {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(mailbox);
      await this.scope.lockMailbox(tx, tenant.id, mailbox.id);
      const before = await this.filters.findVacation(tx, tenant.id, mailbox.id);
      const after = await this.filters.saveVacation(tx, tenant.id, mailbox.id, {
        enabled: dto.enabled,
        subject: dto.subject,
        body: dto.body,
        startsAt: dto.startsAt ? new Date(dto.startsAt) : null,
        endsAt: dto.endsAt ? new Date(dto.endsAt) : null,
        intervalDays: dto.intervalDays,
      });
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'vacation.update',
        targetType: 'mailbox',
        targetId: mailbox.id,
        before: before ? presentVacation(before) : null,
        after: presentVacation(after),
      });
      return presentVacation(after);
    });
  }

  /** Removes the auto-reply; removing none is not an error. */
  async remove(call: CallContext, tenant: Tenant, mailboxId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      const before = await this.filters.findVacation(tx, tenant.id, mailbox.id);
      if (!before) return;
      await this.filters.removeVacation(tx, tenant.id, mailbox.id);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'vacation.delete',
        targetType: 'mailbox',
        targetId: mailbox.id,
        before: presentVacation(before),
      });
    });
  }
}
