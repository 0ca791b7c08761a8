import type { WalkModule } from './walk.types';
import { victimMailbox } from './mail-fixtures';

const T = '/v1/tenants/{tenantId}';

/** Mailboxes, their password, forwarding and the CSV import. */
export const walk: WalkModule = {
  async setup(ctx) {
    const { mailboxId } = await victimMailbox(ctx);
    await ctx.db.prisma.forwardingRule.create({
      data: { tenantId: ctx.victim.id, mailboxId, targets: ['victim@outside.example'], keepCopy: true },
    });
    return { mailboxId };
  },
  bodies: {
    [`POST ${T}/mailboxes`]: { localPart: 'walk', domain: 'walk.example', password: 'a long enough passphrase' },
    [`POST ${T}/mailboxes/import`]: { csv: 'address,name\nwalk@walk.example,Walk' },
    [`PATCH ${T}/mailboxes/{mailboxId}`]: { displayName: 'Taken Over', status: 'disabled' },
    [`POST ${T}/mailboxes/{mailboxId}/password`]: { password: 'attacker knows this one' },
    [`PUT ${T}/mailboxes/{mailboxId}/forwarding`]: { targets: ['attacker@outside.example'], keepCopy: false },
  },
};
