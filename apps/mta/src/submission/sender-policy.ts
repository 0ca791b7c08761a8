import { parseMailAddress } from '@mailroom/mail';
import type { SubmissionUser } from './mailbox-authenticator';
import type { SubmissionRepository } from './submission.repository';

/**
 * Which addresses a login may send as (Postfix's reject_sender_login_mismatch): the mailbox's
 * own address, with or without a `+tag`, through the domain's aliases too, and any alias of the
 * same tenant whose destinations include the mailbox. Nothing in another tenant ever is.
 */
/** Domain statuses that mean ownership was proven (the ownership TXT was seen). */
const PROVEN = new Set(['verified', 'active', 'degraded']);

export class SenderPolicy {
  constructor(private readonly repo: SubmissionRepository) {}

  async owns(user: SubmissionUser, address: string): Promise<boolean> {
    const parsed = parseMailAddress(address, { smtputf8: true });
    if (!parsed.ok) return false;
    const domain = await this.repo.findTenantDomain(user.tenantId, parsed.value.domain);
    if (!domain || domain.deletedAt || !PROVEN.has(domain.status)) return false;
    // Sending as a domain nobody proved is spoofing it from our IPs, alias or not.
    if (domain.aliasOfId && (!domain.aliasOf || domain.aliasOf.deletedAt || !PROVEN.has(domain.aliasOf.status))) {
      return false;
    }
    // x@alias-domain is x@target.
    const domainId = domain.aliasOfId ?? domain.id;
    const localKey = parsed.value.localKey;
    const plus = localKey.indexOf('+');
    const keys = plus > 0 ? [localKey, localKey.slice(0, plus)] : [localKey];
    const own = user.address.toLowerCase();
    for (const key of keys) {
      if (domainId === user.domainId && `${key}@${user.domainName}` === own) return true;
      const destinations = await this.repo.aliasDestinations(user.tenantId, domainId, key);
      if (destinations?.some((d) => d.trim().toLowerCase() === own)) return true;
    }
    return false;
  }
}
