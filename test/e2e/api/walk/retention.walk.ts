import type { WalkModule } from './walk.types';
import { victimMailbox } from './mail-fixtures';

const T = '/v1/tenants/{tenantId}';

/** Retention policies of a tenant and its mailboxes' overrides. */
export const walk: WalkModule = {
  async setup(ctx) {
    const { mailboxId } = await victimMailbox(ctx);
    await ctx.db.prisma.retentionPolicy.createMany({
      data: [
        { tenantId: ctx.victim.id, mailboxId: null, folderKind: 'trash', days: 60 },
        { tenantId: ctx.victim.id, mailboxId, folderKind: 'inbox', days: 3650 },
      ],
    });
    return { mailboxId };
  },
  bodies: {
    [`PUT ${T}/retention`]: { days: { inbox: 1 } },
    [`PUT ${T}/retention/mailboxes/{mailboxId}`]: { days: { inbox: 1 } },
  },
};
