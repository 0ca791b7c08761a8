import type { Config } from '@mailroom/config';
import { open } from '@mailroom/core';
import type { Db } from '@mailroom/db';
import {
  addresses,
  dkimPrivateKey,
  dsnParams,
  findDestination,
  MtaStsResolver,
  mxMatches,
  sendToHost,
  signDkim,
  SmtpSessionCache,
  type DsnParams,
  type MtaStsOptions,
  type RecipientReply,
} from '@mailroom/delivery';
import type { DnsResolver } from '@mailroom/dns';
import { verpBounceAddress } from '@mailroom/mail';
import { blobStore } from '@mailroom/mailstore';
import { DKIM_KEY_CONTEXT } from '@mailroom/onboarding';
import { DeliveryRepository, type ActiveDkimKey } from './delivery.repository';
import { DkimKeyCache, DomainSlots } from './delivery-limits';
import type { Attempt, Claimed, DeliveryResult, OutboundForDelivery } from './delivery.types';
import { recordOutcomes } from './outcomes';

export type { Claimed, DeliveryResult } from './delivery.types';

/** Decrypted DKIM keys kept in process: far more than the sending domains one worker signs for at once. */
const DKIM_KEY_CACHE_SIZE = 1_000;

const nowhere = { host: null, ip: null, durationMs: 0, dsnPassedOn: false };

/**
 * A claim older than this when its destination slot comes free is confirmed (and its
 * last_attempt_at renewed) before sending: the stuck-row sweep hands a delivery claimed 15
 * minutes ago to another worker, and one that waited that long for a slot must not be sent by
 * both. Far inside the sweep's window; a claim that got its slot at once pays nothing.
 */
const RENEW_CLAIM_AFTER_MS = 60_000;

/**
 * Addresses one attempt tries at most, over all MX hosts (Postfix's smtp_mx_address_limit): a
 * domain listing dozens of dead hosts must not hold the job and its destination slot for
 * dozens of connect or greeting timeouts.
 */
const MX_ADDRESS_LIMIT = 5;

/**
 * Delivers one outbound message to the recipients of one domain: claims every due delivery of
 * that message and domain (compare-and-set to 'sending', so two workers never send the same
 * one), finds the MX hosts through DNS_SERVERS, DKIM-signs with the sending domain's active key,
 * and speaks SMTP to the hosts in preference order until one answers. Outcomes, events, DSNs
 * and suppressions are written in one transaction.
 */
export class DeliveryAgent {
  /** At most DELIVERY_CONCURRENCY_PER_DOMAIN sessions per destination from this process. */
  private readonly slots: DomainSlots;
  /** Decrypted DKIM keys, by key id and selector (a rotation brings a new key id). */
  private readonly keys = new DkimKeyCache(DKIM_KEY_CACHE_SIZE);
  private readonly sts: MtaStsResolver;
  /** Idle sessions per remote host, reused for the next message (DELIVERY_CONNECTION_CACHE_MS). */
  readonly sessions: SmtpSessionCache;
  private readonly deliveries: DeliveryRepository;

  constructor(
    private readonly prisma: Db,
    private readonly config: Config,
    private readonly resolver: DnsResolver,
    private readonly options: { mtaSts?: MtaStsOptions; renewClaimAfterMs?: number } = {},
  ) {
    this.deliveries = new DeliveryRepository(prisma);
    this.slots = new DomainSlots(config.DELIVERY_CONCURRENCY_PER_DOMAIN);
    this.sts = new MtaStsResolver(resolver, options.mtaSts);
    this.sessions = new SmtpSessionCache({
      idleMs: config.DELIVERY_CONNECTION_CACHE_MS,
      maxMessages: config.DELIVERY_CONNECTION_REUSE_LIMIT,
    });
  }

  /** Closes idle sessions; the process is stopping. */
  close(): void {
    this.sessions.closeAll();
  }

  /**
   * `attempt`: the attempts the delivery had when this job was queued (0 for a new one). A job
   * sends its own delivery before it is due only if nothing has attempted it since: an older job
   * (a sibling's batch took it, a stalled job re-run) must not send a deferred one early.
   */
  async deliver(ids: { tenantId: string; deliveryId: string; attempt?: number }): Promise<DeliveryResult | null> {
    // One statement claims the batch and reads its message and signing key.
    const claimedAt = Date.now();
    const batch = await this.deliveries.claim(ids.tenantId, ids.deliveryId, ids.attempt ?? 0);
    if (!batch) return null;
    const { domain } = batch;
    let { message } = batch;
    let claimed = batch.claimed;
    if (batch.objectBody) {
      // A body in the object store, read whole (DKIM signing and DATA need all of it). A store
      // that cannot be read is a local temporary failure, recorded like a 4xx (as below).
      try {
        message = { ...message, bytes: await blobStore().getObject(batch.objectBody.storage, batch.objectBody.key) };
      } catch (err) {
        const response = `4.3.0 Could not read the message body: ${(err as Error).message}`;
        const replies = claimed.map((c) => ({ recipient: c.recipient, code: undefined, response }));
        return recordOutcomes(this.prisma, this.config, {
          tenantId: ids.tenantId,
          message,
          claimed,
          attempts: [{ replies, ...nowhere }],
        });
      }
    }
    let raw: Buffer;
    try {
      raw = await this.sign(message, batch.dkimKey);
    } catch (err) {
      // A key that cannot be opened or used (sealed with another MASTER_KEY, damaged): a local
      // temporary failure, recorded like a 4xx so the retry schedule and expiry apply. Thrown,
      // the claim would sit in 'sending' until the stuck-row sweep, and start again forever.
      const response = `4.3.0 Could not DKIM-sign for ${message.fromDomain}: ${(err as Error).message}`;
      const replies = claimed.map((c) => ({ recipient: c.recipient, code: undefined, response }));
      return recordOutcomes(this.prisma, this.config, {
        tenantId: ids.tenantId,
        message,
        claimed,
        attempts: [{ replies, ...nowhere }],
      });
    }
    // The slot comes after the claim (the claim says which destination). A claim that waited
    // long for it may have been handed to another worker by the stuck-row sweep meanwhile:
    // only the deliveries still this claim's are sent, with their claim renewed.
    const release = this.slots.tryAcquire(domain) ?? (await this.slots.acquire(domain));
    try {
      if (Date.now() - claimedAt >= (this.options.renewClaimAfterMs ?? RENEW_CLAIM_AFTER_MS)) {
        const mine = new Set(await this.deliveries.renewClaim(ids.tenantId, claimed));
        claimed = claimed.filter((c) => mine.has(c.id));
        if (claimed.length === 0) return null;
      }
      // Recipients with different DSN parameters (RFC 3461 NOTIFY, ORCPT) need transactions of
      // their own: the parameters of one transaction apply to all its RCPTs. Usually one group.
      const groups = new Map<string, { dsn: DsnParams | null; claimed: Claimed[] }>();
      for (const c of claimed) {
        const dsn = dsnParams(message, c);
        const key = JSON.stringify(dsn);
        const group = groups.get(key) ?? { dsn, claimed: [] };
        group.claimed.push(c);
        groups.set(key, group);
      }
      const attempts: Attempt[] = [];
      for (const group of groups.values()) {
        attempts.push(await this.attempt(ids.tenantId, message, raw, domain, group.claimed, group.dsn));
      }
      release();
      return await recordOutcomes(this.prisma, this.config, { tenantId: ids.tenantId, message, claimed, attempts });
    } finally {
      release();
    }
  }

  private async attempt(
    tenantId: string,
    message: OutboundForDelivery,
    raw: Buffer,
    domain: string,
    claimed: Claimed[],
    dsn: DsnParams | null,
  ): Promise<Attempt> {
    const recipients = claimed.map((c) => c.recipient);
    const reply = (code: number | undefined, response: string): RecipientReply[] =>
      recipients.map((recipient) => ({ recipient, code, response }));
    const destination = await findDestination(this.resolver, domain);
    switch (destination.kind) {
      case 'null-mx':
        return {
          replies: reply(556, `556 5.1.10 ${domain} accepts no mail (null MX, RFC 7505)`),
          ...nowhere,
        };
      case 'no-domain':
        return {
          replies: reply(550, `550 5.1.2 ${domain} has no mail server (no MX and no address)`),
          ...nowhere,
        };
      case 'tempfail':
        return { replies: reply(undefined, `4.4.3 ${destination.reason}`), ...nowhere };
      case 'hosts':
        break;
    }
    // MTA-STS (RFC 8461): with an enforce policy, only listed MX hosts, over verified TLS.
    const policy = await this.sts.policyFor(domain);
    const enforce = policy?.mode === 'enforce';
    const hosts = enforce ? destination.hosts.filter((h) => mxMatches(h.name, policy.mx)) : destination.hosts;
    if (hosts.length === 0) {
      return {
        replies: reply(undefined, `4.7.5 MTA-STS: no MX host of ${domain} matches its enforced policy`),
        ...nowhere,
      };
    }
    // The return path names the first delivery of the batch (VERP): a DSN that comes back finds
    // it, and its Final-Recipient the others of the same message.
    const from =
      message.envelopeFrom === ''
        ? ''
        : verpBounceAddress(tenantId, claimed[0]!.id, this.config.BOUNCE_DOMAIN ?? this.config.MX_HOSTNAME);
    let last: Attempt = {
      replies: reply(undefined, '4.4.1 No mail host answered'),
      ...nowhere,
    };
    let tried = 0;
    for (const host of hosts) {
      if (tried >= MX_ADDRESS_LIMIT) break;
      const ips = await addresses(this.resolver, host.name);
      if (ips.kind === 'error') {
        last = { replies: reply(undefined, `4.4.3 ${ips.reason}`), ...nowhere, host: host.name };
        continue;
      }
      for (const ip of ips.ips.slice(0, 2)) {
        if (tried++ >= MX_ADDRESS_LIMIT) break;
        const result = await sendToHost(
          {
            host: host.name,
            ip,
            port: this.config.SMTP_DELIVERY_PORT,
            heloName: this.config.MX_HOSTNAME,
            requireTls: enforce,
            ca: this.options.mtaSts?.ca,
            connectTimeoutMs: this.config.DELIVERY_CONNECT_TIMEOUT_MS,
            socketTimeoutMs: this.config.DELIVERY_SOCKET_TIMEOUT_MS,
            sessionTimeoutMs: this.config.DELIVERY_SESSION_TIMEOUT_MS,
            from,
            recipients,
            message: raw,
            dsn,
          },
          this.sessions,
        );
        last = {
          replies: result.replies,
          host: host.name,
          ip,
          durationMs: result.durationMs,
          dsnPassedOn: result.dsnPassedOn,
        };
        // A host that spoke SMTP decided; one that did not (refused, timed out) passes to the next.
        if (result.connected) return last;
      }
    }
    return last;
  }

  /** DKIM-Signature from the sending domain's active key, prepended; unsigned if it has none. */
  private async sign(message: OutboundForDelivery, key: ActiveDkimKey | null): Promise<Buffer> {
    if (!key) return message.bytes;
    const privateKey = this.keys.get(key, () =>
      dkimPrivateKey(open(this.config.MASTER_KEY, key.privateKeyEncrypted, DKIM_KEY_CONTEXT(key.id))),
    );
    return signDkim(message.bytes, { domain: message.fromDomain, selector: key.selector, privateKey });
  }

  /**
   * Finds work Redis lost: deliveries due and not running, and deliveries stuck in 'sending'
   * (a worker died mid-session; the remote may have taken the message, so a resend can
   * duplicate: the one window PostgreSQL cannot close). Returns the due ids to queue.
   */
  async sweep(stuckAfterMinutes = 15): Promise<{ tenantId: string; id: string; attempts: number }[]> {
    await this.deliveries.releaseStuck(stuckAfterMinutes);
    return this.deliveries.findDue(1000);
  }
}
