import { isBounceLocalPart, parseMailAddress, parseVerpLocalPart, srsReverse, type MailAddress } from '@mailroom/mail';
import type { MailboxTarget, PlanRecipient, RecipientDsn } from '@mailroom/rules';
import type {
  DomainRow,
  LocalPartRows,
  MailboxRow,
  NamedDomainRow,
  RecipientRepository,
  TenantRow,
} from './recipient.repository';
import type { RecipientCache } from './recipient-cache';
import { replies, type SmtpReply } from './smtp-reply';

export type { MailboxTarget } from '@mailroom/rules';

export interface LocalRecipient extends PlanRecipient {
  kind: 'local';
  /** The RCPT TO address as given. */
  address: string;
  tenant: TenantRow;
  /** The recipient's domain (a domain alias's target, when it is one). */
  domainName: string;
  mailboxes: MailboxTarget[];
  /** External addresses an alias sends a copy to. */
  forwards: string[];
  /**
   * The mailboxes among `mailboxes` that had filter rules, a vacation reply or forwarding when
   * RCPT was answered; only theirs are read before the plan (none: no read at all).
   */
  mailboxesWithRules: string[];
}

/** A DSN coming back to one of our VERP bounce addresses. */
export interface BounceRecipient {
  kind: 'bounce';
  address: string;
  tenantId: string;
  deliveryId: string;
}

/**
 * A bounce to an SRS0 address of a forward we sent (libs/mail srs.ts): relayed to the original
 * sender, from the tenant whose forward it was.
 */
export interface SrsRecipient {
  kind: 'srs';
  address: string;
  /** The sender of the forwarded message, recovered from the SRS address. */
  original: string;
  tenantId: string;
  /** The hosted domain the forward left from (its DKIM key signs the relayed bounce). */
  fromDomain: string;
  dsn?: RecipientDsn | null;
}

export type Recipient = LocalRecipient | BounceRecipient | SrsRecipient;

export interface ResolverOptions {
  /** Domain of our VERP and SRS addresses (BOUNCE_DOMAIN). */
  bounceDomain: string;
  /** The key SRS0 addresses are signed with (srs-key.ts). */
  srsKey: Buffer;
  /** Where `postmaster` without a domain goes (POSTMASTER_ADDRESS). */
  postmaster: string;
}

// Degraded means "was active, and a re-check found DNS drift" (say, SPF changed): mail still
// arrives at our MX, and refusing it would bounce the tenant's mail over a warning.
const ACCEPTED_DOMAIN_STATUSES = new Set(['verified', 'active', 'degraded']);
// Alias chains deeper than this are a configuration loop in all but name.
const MAX_ALIAS_DEPTH = 8;

interface Expansion {
  tenantId: string;
  mailboxes: Map<string, MailboxTarget>;
  inactive: MailboxRow[];
  forwards: Set<string>;
  withRules: Set<string>;
  visited: Set<string>;
}

type Hit = { kind: 'mailbox'; row: MailboxRow } | { kind: 'alias'; destinations: string[] };

/**
 * Resolves a RCPT TO address to mailboxes and forwards, once per recipient, as Postfix's
 * virtual(5) lookups do: mailbox, alias, sub-address (`user+tag`), catch-all (`*`), through
 * domain aliases, alias chains bounded and loop-safe. Port 25 never relays: an address in a
 * domain we do not host is refused whoever asks.
 */
export class RecipientResolver {
  constructor(
    private readonly repo: RecipientRepository,
    private readonly options: ResolverOptions,
    /** This process's RCPT lookups (recipient-cache.ts); without it every lookup reads the database. */
    private readonly cache: RecipientCache | null = null,
  ) {}

  async resolve(rcpt: string, declaredSize: number | null): Promise<Recipient> {
    // RFC 5321 §4.5.1: "postmaster" with no domain must be accepted; as Postfix appends
    // $myorigin to a bare local part, it is the platform's postmaster (POSTMASTER_ADDRESS).
    const given = rcpt.toLowerCase() === 'postmaster' ? this.options.postmaster : rcpt;
    const parsed = parseMailAddress(given, { smtputf8: true });
    if (!parsed.ok) throw replies.badRecipient(rcpt);
    const address = parsed.value;
    if (address.domain === this.options.bounceDomain) {
      if (isBounceLocalPart(address.localPart)) {
        const verp = parseVerpLocalPart(address.localPart);
        if (!verp) throw replies.unknownUser(rcpt);
        return { kind: 'bounce', address: address.address, ...verp };
      }
      if (/^SRS0=/i.test(address.localPart)) return this.resolveSrs(rcpt, address.address);
    }
    // The domain and, in the same statement, what it holds under this local part.
    const domain = await this.acceptedDomain(address.domain, lookupKeys(address.localKey), declaredSize ?? 0);
    if (!domain) throw replies.relayDenied(rcpt);
    const { tenant } = domain;
    if (tenant.status === 'deleted') throw replies.unknownUser(rcpt);
    if (tenant.status === 'suspended') throw replies.tenantSuspended(rcpt);
    const target = await this.aliasTarget(domain);
    if (!target) throw replies.relayDenied(rcpt);
    const expansion = await this.expandAddress(
      tenant.id,
      target,
      address,
      target === domain ? domain.localParts : null,
    );
    const mailboxes = await this.checkQuota(rcpt, tenant, expansion, declaredSize);
    return {
      kind: 'local',
      address: address.address,
      tenant,
      domainName: target.name,
      mailboxes,
      forwards: [...expansion.forwards],
      mailboxesWithRules: mailboxes.filter((m) => expansion.withRules.has(m.mailboxId)).map((m) => m.mailboxId),
    };
  }

  /**
   * Never an open relay: only an SRS0 address whose hash verifies with our key, whose day stamp
   * is within 21 days, and that a forward of ours was actually sent from, reaches its original
   * sender. Anything else is an unknown user.
   */
  private async resolveSrs(rcpt: string, address: string): Promise<SrsRecipient> {
    const original = srsReverse(address, this.options.srsKey);
    if (!original || !parseMailAddress(original, { smtputf8: true }).ok) throw replies.unknownUser(rcpt);
    const forward = await this.repo.findForwardBySender(address);
    if (!forward) throw replies.unknownUser(rcpt);
    return { kind: 'srs', address, original, tenantId: forward.tenantId, fromDomain: forward.fromDomain };
  }

  /** True when mail for this domain is ours to take (submission delivers it locally). */
  async hosts(domainName: string): Promise<boolean> {
    return (await this.acceptedDomain(domainName)) !== null;
  }

  private async acceptedDomain(name: string, localParts: string[] = [], size = 0): Promise<NamedDomainRow | null> {
    const load = () => this.repo.findDomainByName(name, localParts);
    const domain = this.cache ? await this.cache.domain(name, localParts, size, load) : await load();
    return domain && !domain.deletedAt && ACCEPTED_DOMAIN_STATUSES.has(domain.status) ? domain : null;
  }

  /** x@alias-domain goes where x@target goes. */
  private async aliasTarget(domain: DomainRow): Promise<DomainRow | null> {
    if (!domain.aliasOfId) return domain;
    const target = await this.repo.findDomain(domain.tenantId, domain.aliasOfId);
    return target && !target.deletedAt ? target : null;
  }

  private async expandAddress(
    tenantId: string,
    domain: DomainRow,
    address: MailAddress,
    prefetched: LocalPartRows | null,
  ): Promise<Expansion> {
    const expansion: Expansion = {
      tenantId,
      mailboxes: new Map(),
      inactive: [],
      forwards: new Set(),
      withRules: new Set(),
      visited: new Set(),
    };
    await this.expand(expansion, domain, address.localKey, 0, prefetched);
    return expansion;
  }

  private async expand(
    ctx: Expansion,
    domain: DomainRow,
    localKey: string,
    depth: number,
    prefetched: LocalPartRows | null = null,
  ): Promise<boolean> {
    const key = `${domain.id}:${localKey}`;
    if (ctx.visited.has(key) || depth > MAX_ALIAS_DEPTH) return false;
    ctx.visited.add(key);
    const hit = await this.lookup(domain, localKey, prefetched);
    if (!hit) return false;
    if (hit.kind === 'mailbox') {
      if (hit.row.status === 'active') ctx.mailboxes.set(hit.row.id, toTarget(hit.row, domain.name));
      else ctx.inactive.push(hit.row);
      if (hit.row.hasRules) ctx.withRules.add(hit.row.id);
      return true;
    }
    for (const destination of hit.destinations) {
      await this.expandDestination(ctx, destination, depth + 1);
    }
    return true;
  }

  private async expandDestination(ctx: Expansion, destination: string, depth: number): Promise<void> {
    const parsed = parseMailAddress(destination, { smtputf8: true });
    if (!parsed.ok) return;
    const domain = await this.acceptedDomain(parsed.value.domain);
    if (!domain || domain.tenantId !== ctx.tenantId) {
      // Not a domain of this tenant: the copy leaves through the outbox.
      ctx.forwards.add(parsed.value.address);
      return;
    }
    const target = await this.aliasTarget(domain);
    if (target) await this.expand(ctx, target, parsed.value.localKey, depth);
  }

  /**
   * Mailbox, then alias, then the same for the part before '+', then the catch-all; from
   * `prefetched` when the rows of these keys came with the domain.
   */
  private async lookup(domain: DomainRow, localKey: string, prefetched: LocalPartRows | null): Promise<Hit | null> {
    const plus = localKey.indexOf('+');
    const keys = plus > 0 ? [localKey, localKey.slice(0, plus)] : [localKey];
    const found = prefetched ?? (await this.repo.findLocalParts(domain.tenantId, domain.id, lookupKeys(localKey)));
    for (const key of keys) {
      const mailbox = found.mailboxes.get(key);
      if (mailbox) return { kind: 'mailbox', row: mailbox };
      const alias = found.aliases.get(key);
      if (alias) return { kind: 'alias', destinations: alias.destinations };
    }
    const catchAll = found.aliases.get('*');
    return catchAll ? { kind: 'alias', destinations: catchAll.destinations } : null;
  }

  /**
   * A mailbox reached directly answers with its own state. Through an alias, targets that are
   * disabled or full are left out as long as some target remains, so one full mailbox does not
   * refuse mail for a whole team.
   */
  private async checkQuota(
    rcpt: string,
    tenant: TenantRow,
    ctx: Expansion,
    declaredSize: number | null,
  ): Promise<MailboxTarget[]> {
    const size = BigInt(declaredSize ?? 0);
    const refusals: SmtpReply[] = ctx.inactive.map((m) =>
      m.status === 'disabled' ? replies.disabled(rcpt) : replies.unknownUser(rcpt),
    );
    const accepted: MailboxTarget[] = [];
    for (const target of ctx.mailboxes.values()) {
      if (size > target.quotaBytes) refusals.push(replies.tooBigForQuota(rcpt));
      else if (target.usedBytes + size > target.quotaBytes || target.usedBytes >= target.quotaBytes) {
        refusals.push(replies.overQuota(rcpt));
      } else accepted.push(target);
    }
    if (accepted.length === 0 && ctx.forwards.size === 0) throw refusals[0] ?? replies.unknownUser(rcpt);
    if (accepted.length > 0) {
      const used = await this.repo.tenantUsedBytes(tenant.id);
      if (used + size > tenant.storageQuotaBytes) throw replies.overQuota(rcpt);
    }
    return accepted;
  }
}

/** The local parts one lookup reads: the address, its part before '+', the catch-all. */
function lookupKeys(localKey: string): string[] {
  const plus = localKey.indexOf('+');
  return plus > 0 ? [localKey, localKey.slice(0, plus), '*'] : [localKey, '*'];
}

function toTarget(row: MailboxRow, domainName: string): MailboxTarget {
  return {
    tenantId: row.tenantId,
    mailboxId: row.id,
    address: `${row.localPart}@${domainName}`,
    domainName,
    quotaBytes: row.quotaBytes,
    usedBytes: row.usedBytes,
    spamJunkThreshold: row.spamJunkThreshold,
  };
}
