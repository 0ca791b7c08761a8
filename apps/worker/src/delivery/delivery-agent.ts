import { setTimeout as sleep } from 'node:timers/promises';
import { dkimSign } from 'mailauth/lib/dkim/sign';
import type { Config } from '@mailroom/config';
import { open } from '@mailroom/core';
import type { PrismaClient } from '@mailroom/db';
import {
  addresses,
  findDestination,
  MtaStsResolver,
  mxMatches,
  sendToHost,
  SmtpSessionCache,
  type MtaStsOptions,
  type RecipientReply,
} from '@mailroom/delivery';
import type { DnsResolver } from '@mailroom/dns';
import { verpBounceAddress } from '@mailroom/mail';
import { DKIM_KEY_CONTEXT } from '@mailroom/onboarding';
import { recordOutcomes, type Attempt } from './outcomes';

export interface Claimed {
  id: string;
  recipient: string;
  attempts: number;
  expires_at: Date;
}

export interface DeliveryResult {
  claimed: number;
  delivered: number;
  deferred: number;
  bounced: number;
  webhookDeliveryIds: string[];
  /** Deferred deliveries: when each is due again, and after how many attempts. */
  retries: { deliveryId: string; attempt: number; at: Date }[];
}

/**
 * Delivers one outbound message to the recipients of one domain: claims every due delivery of
 * that message and domain (compare-and-set to 'sending', so two workers never send the same
 * one), finds the MX hosts through DNS_SERVERS, DKIM-signs with the sending domain's active key,
 * and speaks SMTP to the hosts in preference order until one answers. Outcomes, events, DSNs
 * and suppressions are written in one transaction.
 */
export class DeliveryAgent {
  private readonly active = new Map<string, number>();
  private readonly sts: MtaStsResolver;
  /** Idle sessions per remote host, reused for the next message (DELIVERY_CONNECTION_CACHE_MS). */
  readonly sessions: SmtpSessionCache;

  constructor(
    private readonly prisma: PrismaClient,
    private readonly config: Config,
    private readonly resolver: DnsResolver,
    private readonly options: { mtaSts?: MtaStsOptions } = {},
  ) {
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
    const seed = await this.prisma.delivery.findUnique({
      where: { tenantId_id: { tenantId: ids.tenantId, id: ids.deliveryId } },
    });
    if (!seed || (seed.status !== 'queued' && seed.status !== 'deferred')) return null;
    const release = await this.slot(seed.recipientDomain);
    try {
      return await this.deliverBatch(
        seed.tenantId,
        seed.outboundMessageId,
        seed.recipientDomain,
        seed.id,
        ids.attempt ?? 0,
      );
    } finally {
      release();
    }
  }

  /** At most DELIVERY_CONCURRENCY_PER_DOMAIN sessions per destination from this process. */
  private async slot(domain: string): Promise<() => void> {
    while ((this.active.get(domain) ?? 0) >= this.config.DELIVERY_CONCURRENCY_PER_DOMAIN) await sleep(50);
    this.active.set(domain, (this.active.get(domain) ?? 0) + 1);
    return () => this.active.set(domain, (this.active.get(domain) ?? 1) - 1);
  }

  private async deliverBatch(
    tenantId: string,
    outboundMessageId: string,
    domain: string,
    seedId: string,
    seedAttempts: number,
  ): Promise<DeliveryResult | null> {
    const claimed = await this.prisma.$queryRaw<Claimed[]>`
      UPDATE deliveries SET status = 'sending', attempts = attempts + 1, last_attempt_at = now(), updated_at = now()
      WHERE tenant_id = ${tenantId}::uuid AND outbound_message_id = ${outboundMessageId}::uuid
        AND recipient_domain = ${domain} AND status IN ('queued', 'deferred')
        AND ((id = ${seedId}::uuid AND attempts = ${seedAttempts}) OR next_attempt_at <= now())
      RETURNING id, recipient, attempts, expires_at`;
    if (claimed.length === 0) return null;
    const message = await this.prisma.outboundMessage.findUniqueOrThrow({
      where: { tenantId_id: { tenantId, id: outboundMessageId } },
      include: { blob: true },
    });
    const attempt = await this.attempt(tenantId, message, domain, claimed);
    return recordOutcomes(this.prisma, this.config, { tenantId, message, claimed, attempt });
  }

  private async attempt(
    tenantId: string,
    message: { envelopeFrom: string; fromDomain: string; blob: { bytes: Uint8Array | null } },
    domain: string,
    claimed: Claimed[],
  ): Promise<Attempt> {
    const recipients = claimed.map((c) => c.recipient);
    const reply = (code: number | undefined, response: string): RecipientReply[] =>
      recipients.map((recipient) => ({ recipient, code, response }));
    const destination = await findDestination(this.resolver, domain);
    switch (destination.kind) {
      case 'null-mx':
        return {
          replies: reply(556, `556 5.1.10 ${domain} accepts no mail (null MX, RFC 7505)`),
          host: null,
          ip: null,
          durationMs: 0,
        };
      case 'no-domain':
        return {
          replies: reply(550, `550 5.1.2 ${domain} has no mail server (no MX and no address)`),
          host: null,
          ip: null,
          durationMs: 0,
        };
      case 'tempfail':
        return { replies: reply(undefined, `4.4.3 ${destination.reason}`), host: null, ip: null, durationMs: 0 };
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
        host: null,
        ip: null,
        durationMs: 0,
      };
    }
    const raw = await this.sign(tenantId, message);
    // The return path names the first delivery of the batch (VERP): a DSN that comes back finds
    // it, and its Final-Recipient the others of the same message.
    const from =
      message.envelopeFrom === ''
        ? ''
        : verpBounceAddress(tenantId, claimed[0]!.id, this.config.BOUNCE_DOMAIN ?? this.config.MX_HOSTNAME);
    let last: Attempt = {
      replies: reply(undefined, '4.4.1 No mail host answered'),
      host: null,
      ip: null,
      durationMs: 0,
    };
    for (const host of hosts) {
      const ips = await addresses(this.resolver, host.name);
      if (ips.kind === 'error') {
        last = { replies: reply(undefined, `4.4.3 ${ips.reason}`), host: host.name, ip: null, durationMs: 0 };
        continue;
      }
      for (const ip of ips.ips.slice(0, 2)) {
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
          },
          this.sessions,
        );
        last = { replies: result.replies, host: host.name, ip, durationMs: result.durationMs };
        // A host that spoke SMTP decided; one that did not (refused, timed out) passes to the next.
        if (result.connected) return last;
      }
    }
    return last;
  }

  /** DKIM-Signature from the sending domain's active key, prepended; unsigned if it has none. */
  private async sign(
    tenantId: string,
    message: { fromDomain: string; blob: { bytes: Uint8Array | null } },
  ): Promise<Buffer> {
    const raw = Buffer.from(message.blob.bytes ?? new Uint8Array());
    const key = await this.prisma.dkimKey.findFirst({
      where: { tenantId, status: 'active', domain: { name: message.fromDomain, deletedAt: null } },
      orderBy: { activatedAt: 'desc' },
    });
    if (!key) return raw;
    const privateKey = open(this.config.MASTER_KEY, key.privateKeyEncrypted, DKIM_KEY_CONTEXT(key.id));
    // mailauth's types allow the key at the top level, but it signs only through signatureData.
    const signatureData = [{ signingDomain: message.fromDomain, selector: key.selector, privateKey }];
    const signed = await dkimSign(raw, { signatureData, canonicalization: 'relaxed/relaxed' } as unknown as Parameters<
      typeof dkimSign
    >[1]);
    if (signed.errors.length > 0) {
      throw new Error(`DKIM signing failed for ${message.fromDomain}: ${String(signed.errors[0])}`);
    }
    return Buffer.concat([Buffer.from(signed.signatures), raw]);
  }

  /**
   * Finds work Redis lost: deliveries due and not running, and deliveries stuck in 'sending'
   * (a worker died mid-session; the remote may have taken the message, so a resend can
   * duplicate: the one window PostgreSQL cannot close). Returns the due ids to queue.
   */
  async sweep(stuckAfterMinutes = 15): Promise<{ tenantId: string; id: string; attempts: number }[]> {
    await this.prisma.$executeRaw`
      UPDATE deliveries SET status = 'deferred', next_attempt_at = now(), updated_at = now()
      WHERE status = 'sending' AND last_attempt_at < now() - make_interval(mins => ${stuckAfterMinutes})`;
    const due = await this.prisma.$queryRaw<{ tenant_id: string; id: string; attempts: number }[]>`
      SELECT tenant_id, id, attempts FROM deliveries
      WHERE status IN ('queued', 'deferred') AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT 1000`;
    return due.map((d) => ({ tenantId: d.tenant_id, id: d.id, attempts: d.attempts }));
  }
}
