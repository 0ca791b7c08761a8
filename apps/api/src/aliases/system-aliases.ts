import type { Alias } from '@mailroom/db';
import type { Tx } from '../infra/tenant-db.service';

/**
 * Local parts every hosted domain must answer: postmaster (RFC 5321 §4.5.1) and abuse
 * (RFC 2142 §2). They exist as system aliases, never as mailboxes.
 */
export const RESERVED_LOCAL_PARTS = ['postmaster', 'abuse'] as const;

export function isReservedLocalPart(localKey: string): boolean {
  return (RESERVED_LOCAL_PARTS as readonly string[]).includes(localKey);
}

/** The email of the tenant's first tenant admin, the default destination of system aliases. */
export async function firstTenantAdminEmail(tx: Tx, tenantId: string): Promise<string | null> {
  const admin = await tx.adminUser.findFirst({
    where: { tenantId, role: 'tenant_admin', disabled: false },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { email: true },
  });
  return admin?.email ?? null;
}

/**
 * Where a domain's system aliases go: the first tenant admin, else the domain's first live
 * mailbox, else nowhere yet (null: create them later, never as a loop to themselves).
 */
export async function systemAliasDestination(tx: Tx, tenantId: string, domainId: string): Promise<string | null> {
  const admin = await firstTenantAdminEmail(tx, tenantId);
  if (admin) return admin;
  const box = await tx.mailbox.findFirst({
    where: { tenantId, domainId, status: { not: 'deleted' } },
    orderBy: [{ createdAt: 'asc' }, { id: 'asc' }],
    select: { localPart: true, domain: { select: { name: true } } },
  });
  return box ? `${box.localPart}@${box.domain.name}` : null;
}

/**
 * Creates the domain's missing system aliases (postmaster@, abuse@) pointing at `adminEmail`,
 * and returns the ones it created (empty when they all existed), so the caller can record them
 * in the audit log of its own transaction. Existing ones are left as they are: their
 * destinations may have been changed on purpose. Call it inside the tenant-scoped transaction
 * that adds the domain (or its first mailbox).
 */
export async function ensureSystemAliases(
  tx: Tx,
  tenantId: string,
  domainId: string,
  adminEmail: string,
): Promise<Alias[]> {
  const existing = await tx.alias.findMany({
    where: { tenantId, domainId, localPart: { in: [...RESERVED_LOCAL_PARTS] } },
    select: { localPart: true },
  });
  const created: Alias[] = [];
  for (const localPart of RESERVED_LOCAL_PARTS) {
    if (existing.some((a) => a.localPart === localPart)) continue;
    created.push(
      await tx.alias.create({
        data: {
          tenantId,
          domainId,
          localPart,
          destinations: [adminEmail.toLowerCase()],
          system: true,
          description: localPart === 'postmaster' ? 'RFC 5321 §4.5.1' : 'RFC 2142',
        },
      }),
    );
  }
  return created;
}
