import { Injectable } from '@nestjs/common';
import { NotFound, ValidationFailed, type FieldProblem } from '@mailroom/core';
import type { ForwardingRule, Tenant } from '@mailroom/db';
import { parseMailAddress } from '@mailroom/mail';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { DomainRepository } from '../domains/domain.repository';
import { TenantDb } from '../infra/tenant-db.service';
import { assertLive } from './mailboxes.service';
import { ForwardingRepository } from './forwarding.repository';
import { addressOf, MailboxScope } from './mailbox-scope';
import type { ForwardingResponse, PutForwardingDto } from './forwarding.dto';

export function presentForwarding(f: ForwardingRule): ForwardingResponse {
  return {
    mailboxId: f.mailboxId,
    targets: f.targets,
    keepCopy: f.keepCopy,
    enabled: f.enabled,
    createdAt: f.createdAt.toISOString(),
    updatedAt: f.updatedAt.toISOString(),
  };
}

/**
 * Forwarding of a mailbox to outside addresses. The MTA sends forwards with an SRS envelope
 * sender (libs/mail srsForward) so SPF passes at the target, and records each forward as a
 * delivery, so a forward without a kept copy still shows in the delivery log. Targets in the
 * tenant's own domains are refused: local copies are what aliases are for, and refusing them
 * makes forwarding loops inside the tenant impossible.
 */
@Injectable()
export class ForwardingService {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly domains: DomainRepository,
    private readonly forwarding: ForwardingRepository,
  ) {}

  async get(call: CallContext, tenant: Tenant, mailboxId: string): Promise<ForwardingResponse> {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      const rule = await this.forwarding.find(tx, tenant.id, mailbox.id);
      if (!rule) throw new NotFound(`Mailbox ${mailboxId} has no forwarding.`);
      return presentForwarding(rule);
    });
  }

  async put(call: CallContext, tenant: Tenant, mailboxId: string, dto: PutForwardingDto): Promise<ForwardingResponse> {
    return this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      assertLive(mailbox);
      await this.scope.lockMailbox(tx, tenant.id, mailbox.id);
      const own = new Set(await this.domains.names(tx, tenant.id));
      const problems: FieldProblem[] = [];
      const targets: string[] = [];
      const firstIndex = new Map<string, number>();
      dto.targets.forEach((raw, i) => {
        const field = `targets.${i}`;
        const parsed = parseMailAddress(raw, { smtputf8: tenant.smtputf8Enabled });
        if (!parsed.ok) return problems.push({ field, message: parsed.message });
        const target = parsed.value.address;
        if (own.has(parsed.value.domain)) {
          return problems.push({
            field,
            message: `${target} is in this tenant's own domains: forward to outside addresses, and use an alias for local copies`,
          });
        }
        const first = firstIndex.get(target.toLowerCase());
        if (first !== undefined) return problems.push({ field, message: `repeats targets.${first}` });
        firstIndex.set(target.toLowerCase(), i);
        targets.push(target);
      });
      if (targets.some((t) => t.toLowerCase() === addressOf(mailbox))) {
        problems.push({ field: 'targets', message: 'a mailbox cannot forward to itself' });
      }
      if (problems.length) throw new ValidationFailed('The request has invalid fields.', problems);
      const before = await this.forwarding.find(tx, tenant.id, mailbox.id);
      const after = await this.forwarding.save(tx, tenant.id, mailbox.id, {
        targets,
        keepCopy: dto.keepCopy,
        enabled: dto.enabled,
      });
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'forwarding.update',
        targetType: 'mailbox',
        targetId: mailbox.id,
        before: before ? presentForwarding(before) : null,
        after: presentForwarding(after),
      });
      return presentForwarding(after);
    });
  }

  /** Removes forwarding; removing none is not an error. */
  async remove(call: CallContext, tenant: Tenant, mailboxId: string): Promise<void> {
    await this.db.tenant(tenant.id, async (tx) => {
      const mailbox = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      const before = await this.forwarding.find(tx, tenant.id, mailbox.id);
      if (!before) return;
      await this.forwarding.remove(tx, tenant.id, mailbox.id);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'forwarding.delete',
        targetType: 'mailbox',
        targetId: mailbox.id,
        before: presentForwarding(before),
      });
    });
  }
}
