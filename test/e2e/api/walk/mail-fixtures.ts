import { randomBytes } from 'node:crypto';
import type { TestDatabase } from '@test/support/database';
import type { WalkContext } from './walk.types';

/** A domain of a tenant, made directly in the database (the domains API is another module). */
export async function addDomain(
  db: TestDatabase,
  tenantId: string,
  name = `d${randomBytes(4).toString('hex')}.example`,
) {
  return db.prisma.domain.create({
    data: { tenantId, name, unicodeName: name, status: 'active', ownershipToken: randomBytes(8).toString('hex') },
  });
}

const victims = new Map<string, Promise<{ domainId: string; domainName: string; mailboxId: string }>>();

/** One domain and mailbox of the isolation walk's victim, shared by the mail modules' walks. */
export function victimMailbox(ctx: WalkContext) {
  let found = victims.get(ctx.victim.id);
  if (!found) {
    found = (async () => {
      const domain = await addDomain(ctx.db, ctx.victim.id);
      const mailbox = await ctx.db.prisma.mailbox.create({
        data: { tenantId: ctx.victim.id, domainId: domain.id, localPart: 'victim', passwordHash: 'x' },
      });
      return { domainId: domain.id, domainName: domain.name, mailboxId: mailbox.id };
    })();
    victims.set(ctx.victim.id, found);
  }
  return found;
}
