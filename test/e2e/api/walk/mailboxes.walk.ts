import type { WalkModule } from './walk.types';
import { victimMailbox } from './mail-fixtures';

const T = '/v1/tenants/{tenantId}';

/** Mailboxes, their password, app passwords, forwarding and the CSV import. */
export const walk: WalkModule = {
  async setup(ctx) {
    const { mailboxId } = await victimMailbox(ctx);
    await ctx.db.prisma.forwardingRule.create({
      data: { tenantId: ctx.victim.id, mailboxId, targets: ['victim@outside.example'], keepCopy: true },
    });
    const appPassword = await ctx.db.prisma.appPassword.create({
      data: {
        tenantId: ctx.victim.id,
        mailboxId,
        name: 'victim phone',
        secretHash: 'f'.repeat(64),
        protocols: ['imap'],
      },
    });
    return { mailboxId, appPasswordId: appPassword.id };
  },
  bodies: {
    [`POST ${T}/mailboxes`]: { localPart: 'walk', domain: 'walk.example', password: 'a long enough passphrase' },
    [`POST ${T}/mailboxes/import`]: { csv: 'address,name\nwalk@walk.example,Walk' },
    [`PATCH ${T}/mailboxes/{mailboxId}`]: { displayName: 'Taken Over', status: 'disabled' },
    [`POST ${T}/mailboxes/{mailboxId}/password`]: { password: 'attacker knows this one' },
    [`POST ${T}/mailboxes/{mailboxId}/app-passwords`]: { name: 'attacker', protocols: ['imap', 'pop3', 'smtp'] },
    [`POST ${T}/mailboxes/{mailboxId}/sign-out-everywhere`]: {},
    [`PUT ${T}/mailboxes/{mailboxId}/forwarding`]: { targets: ['attacker@outside.example'], keepCopy: false },
  },
};
