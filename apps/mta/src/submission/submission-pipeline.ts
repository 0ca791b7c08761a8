import { randomHex } from '../core/random-id';
import type { Logger } from 'pino';
import { srsForward } from '@mailroom/mail';
import { QuotaExceeded, type DeliverRequest, type MailStore } from '@mailroom/mailstore';
import { messageSummaryFromHeaders, planDelivery, type MessageSummary } from '@mailroom/rules';
import { returnPathHeader, rfc5322Date, type RcptDsn } from '@mailroom/smtp';
import { receivedFor, type ClientInfo } from '../core/data-receiver';
import type { DeliverySettingsRepository } from '../core/delivery-settings.repository';
import type { SpooledMessage } from '../core/message-spool';
import { loadRecipientSettings } from '../core/recipient-settings';
import type { RecipientCache } from '../core/recipient-cache';
import type { LocalRecipient } from '../core/recipient-resolver';
import { smtpReply } from '../core/smtp-reply';
import { headerSummary, readWithPrefix, refuseMalformed } from '../core/stored-message';
import { composeReplies } from '../core/vacation-reply';
import type { SubmissionUser } from './mailbox-authenticator';
import type { SendRate } from './send-rate';
import type { SenderPolicy } from './sender-policy';
import { submissionReplies } from './submission-replies';

export type SubmissionRecipient = { kind: 'external'; address: string; dsn: RcptDsn } | LocalRecipient;

/** What the session knows when DATA ends. */
export interface SubmissionEnvelope extends ClientInfo {
  user: SubmissionUser;
}

export interface SubmissionPipelineOptions {
  hostname: string;
  maxHeaderBytes: number;
  bounceDomain: string;
  srsKey: Buffer;
  junkThreshold: number;
  rejectThreshold: number;
}

export interface SubmissionPipelineDeps {
  senders: SenderPolicy;
  rate: SendRate;
  settings: DeliverySettingsRepository;
  store: MailStore;
  onQueued: (deliveries: Array<{ tenantId: string; deliveryId: string }>) => void | Promise<void>;
  logger: Logger;
  /** The RCPT lookups this process keeps: told what each commit added to its mailboxes. */
  recipientCache?: RecipientCache | null | undefined;
}

/**
 * Everything between the end of DATA and the reply on the submission ports: the checks on the
 * bytes (size, bare line endings), the From header's ownership, the hourly limits, the header
 * fields an MSA adds (RFC 6409 §8), the plan for hosted recipients, the one commit, and then the
 * queue hook. It answers 250 only when the commit returned.
 */
export class SubmissionPipeline {
  constructor(
    private readonly options: SubmissionPipelineOptions,
    private readonly deps: SubmissionPipelineDeps,
  ) {}

  async submit(message: SpooledMessage, envelope: SubmissionEnvelope, recipients: SubmissionRecipient[]) {
    const queueId = randomHex(8);
    refuseMalformed(message, this.options.maxHeaderBytes);
    const original = messageSummaryFromHeaders(message.header.toString('utf8'), message.size);
    const fromAddress = await this.checkFromHeader(original, envelope.user);
    const limited = await this.deps.rate.count(envelope.user.tenantId, envelope.user.mailboxId);
    if (limited) throw limited;

    const added = this.addedHeaders(queueId, envelope, recipients, original, fromAddress);
    const summary = messageSummaryFromHeaders(added + message.header.toString('utf8'), message.size);
    const bytes = await readWithPrefix(message, Buffer.from(added, 'utf8'));
    const external = recipients
      .filter((r) => r.kind === 'external')
      .map((r) => ({ address: r.address, notify: r.dsn.notify, orcpt: r.dsn.orcpt }));
    const locals = recipients.filter((r): r is LocalRecipient => r.kind === 'local');
    const { user } = envelope;
    const request: Parameters<MailStore['submit']>[0] = {
      tenantId: user.tenantId,
      mailboxId: user.mailboxId,
      login: user.login,
      bytes,
      envelopeFrom: envelope.sender,
      fromDomain: fromAddress.slice(fromAddress.lastIndexOf('@') + 1).toLowerCase(),
      header: headerSummary(summary),
      remoteIp: envelope.remoteIp,
      helo: envelope.helo,
      external,
      dsn: envelope.dsn,
      allRecipients: recipients.map((r) => r.address),
      local: locals.length > 0 ? await this.planLocal(locals, envelope, summary, bytes, external.length) : null,
    };
    const result = await this.commit(request);
    this.deps.recipientCache?.charge(
      [user.mailboxId, ...(request.local?.tenants.flatMap((t) => t.copies.map((c) => c.target.mailboxId)) ?? [])],
      bytes.length,
    );
    this.deps.logger.info(
      {
        queueId,
        mailboxId: envelope.user.mailboxId,
        outboundId: result.outboundId,
        deliveries: result.deliveries.length,
      },
      'submitted message committed',
    );
    this.notifyQueued(result.deliveries);
    return `2.0.0 Ok: queued as ${queueId}`;
  }

  /** The one commit; the sender's own mailbox being full has its own sentence. */
  private async commit(request: Parameters<MailStore['submit']>[0]) {
    try {
      return await this.deps.store.submit(request);
    } catch (err) {
      if (err instanceof QuotaExceeded && err.mailboxId === request.mailboxId) throw submissionReplies.sentFolderFull();
      throw err;
    }
  }

  /** Every From address must be the login's (RFC 6409 §8.1 lets an MSA refuse what it would not sign). */
  private async checkFromHeader(summary: MessageSummary, user: SubmissionUser): Promise<string> {
    if (summary.from.length === 0) throw submissionReplies.noFromHeader();
    for (const from of summary.from) {
      if (!(await this.deps.senders.owns(user, from.address))) {
        throw submissionReplies.fromHeaderNotOwned(from.address, user.login);
      }
    }
    return summary.from[0]!.address;
  }

  /** Received on top, then Date and Message-ID when the client left them out (RFC 6409 §8.2, §8.3). */
  private addedHeaders(
    queueId: string,
    envelope: SubmissionEnvelope,
    recipients: SubmissionRecipient[],
    summary: MessageSummary,
    fromAddress: string,
  ): string {
    const now = new Date();
    let text = receivedFor(
      envelope,
      this.options.hostname,
      queueId,
      recipients.map((r) => r.address),
      now,
    );
    if (!summary.headers.get('date')) text += `Date: ${rfc5322Date(now)}\r\n`;
    if (!summary.headers.get('message-id')) {
      const domain = fromAddress.slice(fromAddress.lastIndexOf('@') + 1);
      text += `Message-ID: <${queueId}.${randomHex(8)}@${domain}>\r\n`;
    }
    return text;
  }

  /**
   * Hosted recipients go through the inbound MX's plan (filters, vacation, forwarding), with no
   * spam score: the sender is one of ours and authenticated. When every one of them refuses it
   * by a filter and nobody else gets it, the message is refused as the MX would.
   */
  private async planLocal(
    locals: LocalRecipient[],
    envelope: SubmissionEnvelope,
    summary: MessageSummary,
    bytes: Buffer,
    externalCount: number,
  ): Promise<DeliverRequest | null> {
    const plan = planDelivery({
      recipients: locals,
      settings: await loadRecipientSettings(this.deps.settings, locals, envelope.sender),
      summary,
      envelopeFrom: envelope.sender,
      spamScore: 0,
      defaultJunkThreshold: this.options.junkThreshold,
      defaultRejectThreshold: this.options.rejectThreshold,
      now: new Date(),
    });
    if (plan.kind === 'reject') {
      if (externalCount > 0) return null;
      throw smtpReply(550, '5.7.1', plan.text || 'Message rejected by the recipient');
    }
    const localBytes = Buffer.concat([Buffer.from(returnPathHeader(envelope.sender), 'utf8'), bytes]);
    return {
      bytes: localBytes,
      envelopeFrom: envelope.sender,
      forwardSender: srsForward(envelope.sender, this.options.bounceDomain, this.options.srsKey),
      remoteIp: envelope.remoteIp,
      helo: envelope.helo,
      header: headerSummary(summary),
      spamScore: 0,
      authResults: { submission: { login: envelope.user.login } },
      tenants: plan.tenants,
      vacationReplies: await composeReplies(plan.tenants, summary),
      dsn: envelope.dsn,
    };
  }

  /** After the commit: a failure here loses nothing, the worker's sweeper finds queued rows. */
  private notifyQueued(deliveries: Array<{ tenantId: string; deliveryId: string }>): void {
    if (deliveries.length === 0) return;
    Promise.resolve()
      .then(() => this.deps.onQueued(deliveries))
      .catch((err: unknown) =>
        this.deps.logger.warn({ err }, 'queueing submitted deliveries failed; the sweeper will'),
      );
  }
}
