import { randomHex } from '../core/random-id';
import type { Logger } from 'pino';
import { blobSize } from '@mailroom/db';
import { srsForward } from '@mailroom/mail';
import type { MailStore, RelayGroup } from '@mailroom/mailstore';
import { messageSummaryFromHeaders, planDelivery, scoreMessage, spamHeaders, type SpamScore } from '@mailroom/rules';
import { countReceived, returnPathHeader } from '@mailroom/smtp';
import { receivedFor, type ClientInfo } from '../core/data-receiver';
import type { DeliverySettingsRepository } from '../core/delivery-settings.repository';
import type { SpooledMessage } from '../core/message-spool';
import type { RecipientCache } from '../core/recipient-cache';
import { loadRecipientSettings } from '../core/recipient-settings';
import type { LocalRecipient, Recipient, SrsRecipient } from '../core/recipient-resolver';
import { replies, smtpReply } from '../core/smtp-reply';
import { headerSummary, readWithPrefix, refuseMalformed, storedBytes } from '../core/stored-message';
import { composeReplies } from '../core/vacation-reply';
import type { AuthChecker, AuthVerdict } from './auth-check';
import type { DsnHandler } from './dsn-handler';
import { renameForgedAuthResults } from './forged-headers';

/** What the session knows about the client and the envelope when DATA ends. */
export interface EnvelopeInfo extends ClientInfo {
  dnsbl: string[];
}

export interface PipelineOptions {
  hostname: string;
  maxHeaderBytes: number;
  maxHops: number;
  junkThreshold: number;
  rejectThreshold: number;
  bounceDomain: string;
  srsKey: Buffer;
}

export interface PipelineDeps {
  auth: AuthChecker;
  settings: DeliverySettingsRepository;
  store: MailStore;
  dsn: DsnHandler;
  logger: Logger;
  onQueued?: ((deliveries: { tenantId: string; deliveryId: string }[]) => void | Promise<void>) | undefined;
  /** The RCPT lookups this process keeps: told what each commit added to its mailboxes. */
  recipientCache?: RecipientCache | null | undefined;
}

/**
 * Everything between the end of DATA and the reply: the checks on the received bytes (bare line
 * endings, hop count), DSNs for our bounce address, authentication, spam score, the delivery
 * plan and the one commit. It answers 250 only when the commit returned.
 */
export class InboundPipeline {
  constructor(
    private readonly options: PipelineOptions,
    private readonly deps: PipelineDeps,
  ) {}

  async deliver(message: SpooledMessage, envelope: EnvelopeInfo, recipients: Recipient[]): Promise<string> {
    const queueId = randomHex(8);
    refuseMalformed(message, this.options.maxHeaderBytes);
    const headerText = message.header.toString('utf8');
    const hops = countReceived(headerText);
    if (hops > this.options.maxHops) throw replies.loop(hops);

    const bounces = recipients.filter((r) => r.kind === 'bounce');
    if (bounces.length > 0) await this.deps.dsn.handle(bounces, message);
    const srs = recipients.filter((r): r is SrsRecipient => r.kind === 'srs');
    if (srs.length > 0) await this.relaySrs(queueId, message, envelope, headerText, srs);
    const locals = recipients.filter((r): r is LocalRecipient => r.kind === 'local');
    if (locals.length === 0) return `2.0.0 Ok: ${srs.length > 0 ? 'queued' : 'report processed'} as ${queueId}`;

    const auth = await this.deps.auth.check({
      message,
      ip: envelope.remoteIp,
      helo: envelope.helo ?? envelope.remoteIp,
      sender: envelope.sender,
    });
    const summary = messageSummaryFromHeaders(headerText, message.size, { auth });
    const spam = scoreMessage({ auth, dmarcPolicy: auth.dmarcPolicy, dnsbl: envelope.dnsbl, summary, now: new Date() });
    const plan = planDelivery({
      recipients: locals,
      settings: await loadRecipientSettings(this.deps.settings, locals, envelope.sender),
      summary,
      envelopeFrom: envelope.sender,
      spamScore: spam.score,
      defaultJunkThreshold: this.options.junkThreshold,
      defaultRejectThreshold: this.options.rejectThreshold,
      now: new Date(),
    });
    if (plan.kind === 'reject') {
      throw plan.reason === 'spam' ? replies.spam() : smtpReply(550, '5.7.1', plan.text);
    }
    const prefix = this.traceHeaders(queueId, envelope, locals, auth, spam);
    // A renamed header is longer: prefix, cleaned header, then the body.
    const renamed = message.headerComplete ? renameForgedAuthResults(message.header, this.options.hostname) : null;
    const bytes = await storedBytes(message, prefix, renamed);
    const { bounceDomain, srsKey } = this.options;
    let forwardSender: string | undefined;
    const result = await this.deps.store.deliver({
      bytes,
      envelopeFrom: envelope.sender,
      // Made when a forward first reads it (most messages have none: no SRS address, no HMAC),
      // then the same for every forward of the message.
      get forwardSender() {
        return (forwardSender ??= srsForward(envelope.sender, bounceDomain, srsKey));
      },
      remoteIp: envelope.remoteIp,
      helo: envelope.helo,
      header: headerSummary(summary),
      spamScore: spam.score,
      authResults: {
        spf: auth.spf,
        dkim: auth.dkim,
        dmarc: auth.dmarc,
        arc: auth.arc,
        spam: spam.hits.map((h) => ({ rule: h.rule, score: h.score })),
        dnsbl: envelope.dnsbl,
      },
      tenants: plan.tenants,
      vacationReplies: await composeReplies(plan.tenants, summary),
      dsn: envelope.dsn,
    });
    this.deps.recipientCache?.charge(
      plan.tenants.flatMap((t) => t.copies.map((c) => c.target.mailboxId)),
      blobSize(bytes),
    );
    this.deps.logger.info(
      { queueId, messages: result.messageIds.length, outbound: result.outboundIds.length, size: blobSize(bytes) },
      'inbound message committed',
    );
    await this.notifyQueued(queueId, result.deliveries);
    return `2.0.0 Ok: queued as ${queueId}`;
  }

  /**
   * Bounces to our SRS addresses go back to the original senders, with our Received on top. They
   * commit before the local copies, as DSNs to VERP addresses do: a failure after this makes the
   * client send again, and the original sender may get the bounce twice, never none.
   */
  private async relaySrs(
    queueId: string,
    message: SpooledMessage,
    envelope: EnvelopeInfo,
    headerText: string,
    srs: SrsRecipient[],
  ): Promise<void> {
    const received = receivedFor(
      envelope,
      this.options.hostname,
      queueId,
      srs.map((r) => r.original),
    );
    const bytes = await readWithPrefix(message, Buffer.from(received, 'utf8'));
    const header = headerSummary(messageSummaryFromHeaders(headerText, message.size));
    // One outbound message per tenant and forwarding domain.
    const groups = new Map<string, RelayGroup>();
    for (const r of srs) {
      const key = `${r.tenantId} ${r.fromDomain}`;
      const group = groups.get(key) ?? { tenantId: r.tenantId, fromDomain: r.fromDomain, recipients: [] };
      group.recipients.push(r.dsn ? { address: r.original, ...r.dsn } : r.original);
      groups.set(key, group);
    }
    const deliveries = await this.deps.store.relayBounces(bytes, header, envelope.dsn, [...groups.values()]);
    this.deps.logger.info({ queueId, deliveries: deliveries.length }, 'bounce to an SRS address relayed');
    await this.notifyQueued(queueId, deliveries);
  }

  private async notifyQueued(queueId: string, deliveries: Array<{ tenantId: string; deliveryId: string }>) {
    if (deliveries.length === 0 || !this.deps.onQueued) return;
    // After commit: a failure to queue loses nothing, the worker's sweep finds the rows.
    await Promise.resolve(this.deps.onQueued(deliveries)).catch((err: unknown) =>
      this.deps.logger.warn({ err, queueId }, 'could not queue forwards; the sweep will'),
    );
  }

  private traceHeaders(
    queueId: string,
    envelope: EnvelopeInfo,
    recipients: LocalRecipient[],
    auth: AuthVerdict,
    spam: SpamScore,
  ): Buffer {
    const junkThreshold = recipients[0]?.tenant.spamJunkThreshold ?? this.options.junkThreshold;
    const received = receivedFor(
      envelope,
      this.options.hostname,
      queueId,
      recipients.map((r) => r.address),
    );
    const text =
      returnPathHeader(envelope.sender) +
      auth.headers +
      spamHeaders(spam, junkThreshold, this.options.hostname) +
      received;
    return Buffer.from(text, 'utf8');
  }
}
