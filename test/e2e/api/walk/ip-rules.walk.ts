import type { WalkModule } from './walk.types';

const T = '/v1/tenants/{tenantId}';

/** IP access rules. */
export const walk: WalkModule = {
  async setup(ctx) {
    const rule = await ctx.db.prisma.ipAccessRule.create({
      data: { tenantId: ctx.victim.id, cidr: '198.51.100.0/24', action: 'allow', service: 'imap' },
    });
    return { ipRuleId: rule.id };
  },
  bodies: {
    [`POST ${T}/ip-rules`]: { cidr: '0.0.0.0/0', action: 'deny', service: 'imap' },
    [`POST ${T}/ip-rules/check`]: { service: 'imap', ip: '198.51.100.1' },
    [`PATCH ${T}/ip-rules/{ipRuleId}`]: { action: 'deny' },
  },
};
