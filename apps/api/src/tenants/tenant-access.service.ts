import { Injectable } from '@nestjs/common';
import { NotFound } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import type { Principal } from '../auth/principal';

/** Whether a principal may see a tenant at all. */
export function canSeeTenant(p: Principal, tenant: Pick<Tenant, 'id' | 'resellerId' | 'status'>): boolean {
  if (p.platform) return true;
  if (p.tenantId !== null) return p.tenantId === tenant.id && tenant.status !== 'deleted';
  return p.resellerId !== null && tenant.resellerId === p.resellerId;
}

@Injectable()
export class TenantAccessService {
  /**
   * The tenant named in a path (`tenant`, looked up with the credential), when the principal
   * may see it. Another tenant's id answers exactly like an id that does not exist: 404, so ids
   * cannot be probed.
   */
  check(principal: Principal, tenantId: string, tenant: Tenant | null): Tenant {
    if (!tenant || !canSeeTenant(principal, tenant)) {
      throw new NotFound(`Tenant ${tenantId} not found.`);
    }
    return tenant;
  }
}
