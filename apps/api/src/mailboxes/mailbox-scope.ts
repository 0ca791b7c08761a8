import { Injectable } from '@nestjs/common';
import { Forbidden, NotFound, ValidationFailed } from '@mailroom/core';
import type { Domain } from '@mailroom/db';
import { asciiDomain } from '@mailroom/mail';
import type { Principal } from '../auth/principal';
import { DomainRepository } from '../domains/domain.repository';
import type { Tx } from '../infra/tenant-db.service';
import { MailboxRepository, type MailboxWithDomain } from './mailbox.repository';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function isUuid(value: string): boolean {
  return UUID.test(value);
}

export type { MailboxWithDomain } from './mailbox.repository';

/**
 * API keys may be limited to some domains (principal.domains). Objects of other domains answer
 * 403: the key may see that the tenant has them (it names the tenant), but not touch them.
 */
export function assertDomainAllowed(principal: Principal, domainName: string): void {
  if (principal.domains.length > 0 && !principal.domains.includes(domainName)) {
    throw new Forbidden(
      `This credential is limited to ${principal.domains.join(', ')}; ${domainName} is not one of them.`,
    );
  }
}

/** Lookups every mailbox-scoped use case starts with, over the repositories. */
@Injectable()
export class MailboxScope {
  constructor(
    private readonly domains: DomainRepository,
    private readonly mailboxes: MailboxRepository,
  ) {}

  /**
   * The tenant's domain named by `domain` (name, IDN or punycode) or `domainId`. A domain of
   * another tenant, or none at all, is a 422 naming the field: the body is what is wrong.
   */
  async resolveDomain(
    tx: Tx,
    tenantId: string,
    ref: { domain?: string | undefined; domainId?: string | undefined },
  ): Promise<Domain> {
    const field = ref.domainId !== undefined ? 'domainId' : 'domain';
    const given = ref.domainId ?? ref.domain ?? '';
    const name = ref.domain !== undefined ? asciiDomain(ref.domain) : null;
    const found =
      ref.domainId !== undefined
        ? isUuid(ref.domainId)
          ? await this.domains.findLiveBy(tx, tenantId, { id: ref.domainId })
          : null
        : name
          ? await this.domains.findLiveBy(tx, tenantId, { name })
          : null;
    if (!found) {
      throw new ValidationFailed('The request has invalid fields.', [
        { field, message: `${given} is not a domain of this tenant` },
      ]);
    }
    return found;
  }

  /** A mailbox of the tenant by id, with its domain; 404 when missing, 403 outside a key's domains. */
  async loadMailbox(tx: Tx, principal: Principal, tenantId: string, mailboxId: string): Promise<MailboxWithDomain> {
    const mailbox = isUuid(mailboxId) ? await this.mailboxes.find(tx, tenantId, mailboxId) : null;
    if (!mailbox) throw new NotFound(`Mailbox ${mailboxId} not found.`);
    assertDomainAllowed(principal, mailbox.domain.name);
    return mailbox;
  }

  /** Locks the mailbox row for the rest of the transaction (ordering, singleton settings). */
  lockMailbox(tx: Tx, tenantId: string, mailboxId: string): Promise<void> {
    return this.mailboxes.lock(tx, tenantId, mailboxId);
  }
}

export function addressOf(mailbox: { localPart: string; domain: { name: string } }): string {
  return `${mailbox.localPart}@${mailbox.domain.name}`;
}
