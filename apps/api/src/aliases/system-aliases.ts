import type { Alias } from '@mailroom/db';
import type { Tx } from '../infra/tenant-db.service';
import type { AliasRepository } from './alias.repository';

/**
 * Local parts every hosted domain must answer: postmaster (RFC 5321 §4.5.1) and abuse
 * (RFC 2142 §2). They exist as system aliases, never as mailboxes.
 */
export const RESERVED_LOCAL_PARTS = ['postmaster', 'abuse'] as const;

export function isReservedLocalPart(localKey: string): boolean {
  return (RESERVED_LOCAL_PARTS as readonly string[]).includes(localKey);
}

/**
 * Where a domain's system aliases go: the first tenant admin, else the domain's first live
 * mailbox, else nowhere yet (null: create them later, never as a loop to themselves).
 */
export async function systemAliasDestination(
  aliases: AliasRepository,
  tx: Tx,
  tenantId: string,
  domainId: string,
): Promise<string | null> {
  return (
    (await aliases.firstTenantAdminEmail(tx, tenantId)) ?? (await aliases.firstMailboxAddress(tx, tenantId, domainId))
  );
}

/**
 * Creates the domain's missing system aliases (postmaster@, abuse@) pointing at `adminEmail`,
 * and returns the ones it created (empty when they all existed), so the caller can record them
 * in the audit log of its own transaction. Existing ones are left as they are: their
 * destinations may have been changed on purpose. Call it inside the tenant-scoped transaction
 * that adds the domain (or its first mailbox).
 */
export async function ensureSystemAliases(
  aliases: AliasRepository,
  tx: Tx,
  tenantId: string,
  domainId: string,
  adminEmail: string,
): Promise<Alias[]> {
  const existing = await aliases.existingLocalParts(tx, tenantId, domainId, [...RESERVED_LOCAL_PARTS]);
  const created: Alias[] = [];
  for (const localPart of RESERVED_LOCAL_PARTS) {
    if (existing.includes(localPart)) continue;
    created.push(
      await aliases.createSystem(tx, tenantId, {
        domainId,
        localPart,
        destination: adminEmail.toLowerCase(),
        description: localPart === 'postmaster' ? 'RFC 5321 §4.5.1' : 'RFC 2142',
      }),
    );
  }
  return created;
}
