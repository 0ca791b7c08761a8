import type { WalkModule } from './walk.types';
import { victimMailbox } from './mail-fixtures';

const M = '/v1/tenants/{tenantId}/mailboxes/{mailboxId}';
const rule = { name: 'walk', conditions: [], actions: [{ type: 'redirect', to: 'attacker@outside.example' }] };

/** Filter rules and the vacation reply of a mailbox. */
export const walk: WalkModule = {
  async setup(ctx) {
    const { mailboxId } = await victimMailbox(ctx);
    const filter = await ctx.db.prisma.filterRule.create({
      data: {
        tenantId: ctx.victim.id,
        mailboxId,
        position: 1,
        name: 'victim rule',
        conditions: [],
        actions: [{ type: 'flag' }],
      },
    });
    await ctx.db.prisma.vacationReply.create({
      data: { tenantId: ctx.victim.id, mailboxId, subject: 'Away', body: 'Back soon' },
    });
    return { filterId: filter.id };
  },
  bodies: {
    [`POST ${M}/filters`]: rule,
    [`PUT ${M}/filters/order`]: { ids: [] },
    [`POST ${M}/filters/test`]: { message: 'From: a@b.example\r\nSubject: hi\r\n\r\nbody' },
    [`PATCH ${M}/filters/{filterId}`]: { enabled: false },
    [`PUT ${M}/vacation`]: { subject: 'Taken Over', body: 'pwned' },
  },
};
