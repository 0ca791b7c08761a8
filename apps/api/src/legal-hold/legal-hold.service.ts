import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { TenantDb } from '../infra/tenant-db.service';
import { MailboxScope } from '../mailboxes/mailbox-scope';
import { LegalHoldRepository, type HoldColumns } from './legal-hold.repository';
import type { Tenant } from '@mailroom/db';

export function presentHold(h: HoldColumns) {
  return {
    legalHold: h.legalHold,
    reason: h.legalHoldReason,
    setBy: h.legalHoldSetBy,
    setAt: h.legalHoldSetAt?.toISOString() ?? null,
  };
}

/** `reason` null lifts the hold. */
function holdData(call: CallContext, reason: string | null): HoldColumns {
  return reason === null
    ? { legalHold: false, legalHoldReason: null, legalHoldSetBy: null, legalHoldSetAt: null }
    : { legalHold: true, legalHoldReason: reason, legalHoldSetBy: call.principal.label, legalHoldSetAt: new Date() };
}

/**
 * Puts a tenant or a mailbox on legal hold and lifts it, audit-logged with who and why. The
 * worker's retention and purge batches lock the tenant (FOR SHARE) and mailbox rows and re-check
 * the hold, so this UPDATE waits for a running batch; once it returns, nothing more is removed.
 * Lifting a hold that is not set changes nothing and logs nothing.
 */
@Injectable()
export class LegalHoldService {
  constructor(
    private readonly db: TenantDb,
    private readonly scope: MailboxScope,
    private readonly audit: AuditService,
    private readonly holds: LegalHoldRepository,
  ) {}

  async getTenant(tenant: Tenant) {
    return this.db.tenant(tenant.id, async (tx) => presentHold(await this.holds.tenantHold(tx, tenant.id)));
  }

  async setTenant(call: CallContext, tenant: Tenant, reason: string | null) {
    return this.db.tenant(tenant.id, async (tx) => {
      const before = await this.holds.tenantHold(tx, tenant.id);
      if (reason === null && !before.legalHold) return presentHold(before);
      const after = await this.holds.setTenantHold(tx, tenant.id, holdData(call, reason));
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: reason === null ? 'tenant.legal_hold_lift' : 'tenant.legal_hold_set',
        targetType: 'tenant',
        targetId: tenant.id,
        before: presentHold(before),
        after: presentHold(after),
      });
      return presentHold(after);
    });
  }

  async getMailbox(call: CallContext, tenant: Tenant, mailboxId: string) {
    return this.db.tenant(tenant.id, async (tx) =>
      presentHold(await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId)),
    );
  }

  async setMailbox(call: CallContext, tenant: Tenant, mailboxId: string, reason: string | null) {
    return this.db.tenant(tenant.id, async (tx) => {
      const before = await this.scope.loadMailbox(tx, call.principal, tenant.id, mailboxId);
      if (reason === null && !before.legalHold) return presentHold(before);
      const after = await this.holds.setMailboxHold(tx, tenant.id, before.id, holdData(call, reason));
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: reason === null ? 'mailbox.legal_hold_lift' : 'mailbox.legal_hold_set',
        targetType: 'mailbox',
        targetId: before.id,
        before: presentHold(before),
        after: presentHold(after),
      });
      return presentHold(after);
    });
  }
}
