import { Injectable } from '@nestjs/common';
import { Forbidden, NotFound } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import { AuditService } from '../audit/audit.service';
import { TenantDb } from '../infra/tenant-db.service';
import { MfaRepository } from './mfa.repository';
import type { CallContext } from './request-context';

export interface TenantSecurityPolicy {
  requireMfa: boolean;
  /** The tenant's reseller requires 2FA of its tenants' admins, whatever the tenant says. */
  resellerRequiresMfa: boolean;
}

/**
 * Whether a reseller or a tenant requires two-factor sign-in of all its admins. Only people may
 * change it (an API key cannot weaken or strengthen how people sign in); every change is audited.
 */
@Injectable()
export class MfaPolicyService {
  constructor(
    private readonly db: TenantDb,
    private readonly mfa: MfaRepository,
    private readonly audit: AuditService,
  ) {}

  async tenant(tenant: Tenant): Promise<TenantSecurityPolicy> {
    const policy = await this.mfa.tenantPolicy(tenant.id);
    if (!policy) throw new NotFound(`Tenant ${tenant.id} not found.`);
    return policy;
  }

  async setTenant(call: CallContext, tenant: Tenant, requireMfa: boolean): Promise<TenantSecurityPolicy> {
    this.assertPerson(call);
    const before = await this.tenant(tenant);
    await this.db.platform(async (tx) => {
      await this.mfa.setTenantPolicy(tx, tenant.id, requireMfa);
      await this.audit.record(tx, call, {
        tenantId: tenant.id,
        action: 'tenant.security_policy.update',
        targetType: 'tenant',
        targetId: tenant.id,
        before: { requireMfa: before.requireMfa },
        after: { requireMfa },
      });
    });
    return { ...before, requireMfa };
  }

  async reseller(call: CallContext, resellerId: string): Promise<{ requireMfa: boolean }> {
    const p = call.principal;
    const visible =
      (p.platform || (p.resellerId === resellerId && p.tenantId === null)) && /^[0-9a-f-]{36}$/i.test(resellerId);
    const policy = visible ? await this.mfa.resellerPolicy(resellerId) : null;
    if (!policy) throw new NotFound(`Reseller ${resellerId} not found.`);
    return policy;
  }

  async setReseller(call: CallContext, resellerId: string, requireMfa: boolean): Promise<{ requireMfa: boolean }> {
    this.assertPerson(call);
    const before = await this.reseller(call, resellerId);
    await this.db.platform(async (tx) => {
      await this.mfa.setResellerPolicy(tx, resellerId, requireMfa);
      await this.audit.record(tx, call, {
        tenantId: null,
        action: 'reseller.security_policy.update',
        targetType: 'reseller',
        targetId: resellerId,
        before,
        after: { requireMfa },
      });
    });
    return { requireMfa };
  }

  private assertPerson(call: CallContext): void {
    if (call.principal.kind !== 'user') {
      throw new Forbidden('Only a signed-in admin may change who must use two-factor sign-in, not an API key.');
    }
  }
}
