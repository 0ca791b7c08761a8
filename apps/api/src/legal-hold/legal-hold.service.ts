import { Injectable } from '@nestjs/common';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { TenantDb } from '../infra/tenant-db.service';
import { loadMailbox } from '../mailboxes/mailbox-scope';
import type { Tenant } from '@mailroom/db';

interface HoldColumns {
  legalHold: boolean;
  legalHoldReason: string | null;
  legalHoldSetBy: string | null;
  legalHoldSetAt: Date | null;
}

export function presentHold(h: HoldColumns) {
  return {
    legalHold: h.legalHold,
    reason: h.legalHoldReason,
    setBy: h.legalHoldSetBy,
    setAt: h.legalHoldSetAt?.toISOString() ?? null,
  };
}

/** `reason` null lifts the hold. */
function holdData(call: CallContext, reason: string | null) {
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
    private readonly audit: AuditService,
  ) {}

  async getTenant(tenant: Tenant) {
    return this.db.tenant(tenant.id, async (tx) =>
      presentHold(await tx.tenant.findUniqueOrThrow({ where: { id: tenant.id } })),
    );
  }

  async setTenant(call: CallContext, tenant: Tenant, reason: string | null) {
    return this.db.tenant(tenant.id, async (tx) => {
      const before = await tx.tenant.findUniqueOrThrow({ where: { id: tenant.id } });
      if (reason === null && !before.legalHold) return presentHold(before);
      const after = await tx.tenant.update({ where: { id: tenant.id }, data: holdData(call, reason) });
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
      presentHold(await loadMailbox(tx, call.principal, tenant.id, mailboxId)),
    );
  }

  async setMailbox(call: CallContext, tenant: Tenant, mailboxId: string, reason: string | null) {
    return this.db.tenant(tenant.id, async (tx) => {
      const before = await loadMailbox(tx, call.principal, tenant.id, mailboxId);
      if (reason === null && !before.legalHold) return presentHold(before);
      const after = await tx.mailbox.update({
        where: { tenantId_id: { tenantId: tenant.id, id: before.id } },
        data: holdData(call, reason),
      });
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
