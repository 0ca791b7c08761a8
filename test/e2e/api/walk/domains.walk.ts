import { randomBytes } from 'node:crypto';
import type { WalkModule } from './walk.types';

/** Domains (DNS plan, zone, verification, DKIM rotation) and webhooks. */
export const walk: WalkModule = {
  async setup(ctx) {
    const domain = await ctx.db.prisma.domain.create({
      data: {
        tenantId: ctx.victim.id,
        name: `victim-${randomBytes(3).toString('hex')}.example`,
        unicodeName: 'victim.example',
        ownershipToken: 'secret-token',
        mtaStsId: '1',
      },
    });
    const webhook = await ctx.db.prisma.webhook.create({
      data: {
        tenantId: ctx.victim.id,
        url: 'https://hooks.example/victim',
        events: ['*'],
        secretEncrypted: 'v1.x.y.z',
      },
    });
    return { domainId: domain.id, webhookId: webhook.id };
  },
  bodies: {
    'POST /v1/tenants/{tenantId}/domains': { name: `walk-${randomBytes(3).toString('hex')}.example` },
    'POST /v1/tenants/{tenantId}/domains/{domainId}/verify': {},
    'POST /v1/tenants/{tenantId}/domains/{domainId}/dkim/rotate': {},
    'POST /v1/tenants/{tenantId}/webhooks': { url: 'https://attacker.example/hook', events: ['*'] },
    'PATCH /v1/tenants/{tenantId}/webhooks/{webhookId}': { url: 'https://attacker.example/hook' },
  },
};
