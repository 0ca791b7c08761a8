import type { WalkModule } from './walk.types';
import { victimMailbox } from './mail-fixtures';

const T = '/v1/tenants/{tenantId}';

/** Aliases and catch-alls. */
export const walk: WalkModule = {
  async setup(ctx) {
    const { domainId, domainName } = await victimMailbox(ctx);
    const alias = await ctx.db.prisma.alias.create({
      data: { tenantId: ctx.victim.id, domainId, localPart: 'sales', destinations: [`victim@${domainName}`] },
    });
    return { aliasId: alias.id };
  },
  bodies: {
    [`POST ${T}/aliases`]: { localPart: 'walk', domain: 'walk.example', destinations: ['attacker@outside.example'] },
    [`PATCH ${T}/aliases/{aliasId}`]: { destinations: ['attacker@outside.example'] },
  },
};
