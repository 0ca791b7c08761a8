import { Injectable } from '@nestjs/common';
import { NotFound } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import { AuthRepository } from '../auth/auth.repository';
import type { Principal } from '../auth/principal';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether a principal may see a tenant at all. */
export function canSeeTenant(p: Principal, tenant: Pick<Tenant, 'id' | 'resellerId' | 'status'>): boolean {
  if (p.platform) return true;
  if (p.tenantId !== null) return p.tenantId === tenant.id && tenant.status !== 'deleted';
  return p.resellerId !== null && tenant.resellerId === p.resellerId;
}

@Injectable()
export class TenantAccessService {
  constructor(private readonly auth: AuthRepository) {}

  /**
   * The tenant named in a path, when the principal may see it. Another tenant's id answers
   * exactly like an id that does not exist: 404, so ids cannot be probed.
   */
  async load(principal: Principal, tenantId: string): Promise<Tenant> {
    const tenant = UUID.test(tenantId) ? await this.auth.findTenant(tenantId) : null;
    if (!tenant || !canSeeTenant(principal, tenant)) throw new NotFound(`Tenant ${tenantId} not found.`);
    return tenant;
  }
}
