import { randomUUID } from 'node:crypto';
import type { WalkModule } from './walk.types';

const newEmail = () => `walk-${randomUUID()}@example.com`;

/** Resellers, tenants, users, API keys, audit log. */
export const walk: WalkModule = {
  async setup(ctx) {
    const user = await ctx.db.prisma.adminUser.findUniqueOrThrow({ where: { email: ctx.victim.adminEmail } });
    return { tenantId: ctx.victim.id, keyId: ctx.victim.keyId, userId: user.id, resellerId: ctx.victimReseller.id };
  },
  bodies: {
    'POST /v1/resellers': { name: 'Walk Reseller' },
    'PATCH /v1/resellers/{resellerId}': { name: 'Taken Over' },
    'POST /v1/resellers/{resellerId}/users': { email: newEmail(), password: 'a long enough password' },
    'POST /v1/tenants': { name: 'Walk Tenant' },
    'PATCH /v1/tenants/{tenantId}': { name: 'Taken Over' },
    'POST /v1/tenants/{tenantId}/suspend': { reason: 'walk' },
    'POST /v1/tenants/{tenantId}/resume': {},
    'POST /v1/tenants/{tenantId}/restore': {},
    'POST /v1/tenants/{tenantId}/users': {
      email: newEmail(),
      password: 'a long enough password',
      role: 'tenant_admin',
    },
    'POST /v1/tenants/{tenantId}/api-keys': { name: 'walk', scopes: ['tenants:read'] },
    'POST /v1/api-keys': { name: 'walk', scopes: ['tenants:read'] },
  },
};
