import fs from 'node:fs';
import { randomBytes } from 'node:crypto';
import type { Logger } from 'pino';
import { messageSummaryFromHeaders, type MessageSummary } from '@mailroom/rules';
import { srsForward } from '@mailroom/mail';
import type { HeaderSummary, MailStore } from '@mailroom/mailstore';
import type { AuthChecker, AuthVerdict } from './auth-check';
import { planDelivery, type TenantPlan, type VacationPlan } from './delivery-planner';
import type { DeliverySettingsRepository, MailboxSettings } from './delivery-settings.repository';
import type { DsnHandler } from './dsn-handler';
import type { SpooledMessage } from './message-spool';
import type { LocalRecipient, Recipient } from './recipient-resolver';
import { renameForgedAuthResults } from './forged-headers';
import { replies, smtpReply } from './smtp-reply';
import { scoreMessage, spamHeaders, type SpamScore } from './spam-score';
import { countReceived, receivedHeader, returnPathHeader } from './trace-headers';
import { composeVacationReply } from './vacation-reply';

/** What the session knows about the client and the envelope when DATA ends. */
export interface EnvelopeInfo {
  sender: string;
  remoteIp: string;
  helo: string | null;
  clientHostname: string | null;
  protocol: string;
  tls: { name: string; version?: string } | null;
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
    const queueId = randomBytes(8).toString('hex');
    if (message.sizeExceeded) throw smtpReply(552, '5.3.4', 'Message size exceeds fixed maximum message size');
    if (message.bareLineEnding) throw replies.bareLineEnding();
    if (!message.headerComplete && message.size > this.options.maxHeaderBytes) throw replies.headerTooLong();
    const headerText = message.header.toString('utf8');
    const hops = countReceived(headerText);
    if (hops > this.options.maxHops) throw replies.loop(hops);

    const bounces = recipients.filter((r) => r.kind === 'bounce');
    if (bounces.length > 0) await this.deps.dsn.handle(bounces, message.path);
    const locals = recipients.filter((r): r is LocalRecipient => r.kind === 'local');
    if (locals.length === 0) return `2.0.0 Ok: report processed as ${queueId}`;

    const auth = await this.deps.auth.check({
      path: message.path,
      ip: envelope.remoteIp,
      helo: envelope.helo ?? envelope.remoteIp,
      sender: envelope.sender,
    });
    const summary = messageSummaryFromHeaders(headerText, message.size, { auth });
    const spam = scoreMessage({ auth, dmarcPolicy: auth.dmarcPolicy, dnsbl: envelope.dnsbl, summary, now: new Date() });
    const plan = planDelivery({
      recipients: locals,
      settings: await this.loadSettings(locals, envelope.sender),
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
    let bytes = await readWithPrefix(message.path, prefix, message.size);
    const renamed = message.headerComplete ? renameForgedAuthResults(message.header, this.options.hostname) : null;
    if (renamed) {
      // The renamed header is longer: rebuild prefix, cleaned header, then the body.
      bytes = Buffer.concat([prefix, renamed, bytes.subarray(prefix.length + message.header.length)]);
    }
    const result = await this.deps.store.deliver({
      bytes,
      envelopeFrom: envelope.sender,
      forwardSender: srsForward(envelope.sender, this.options.bounceDomain, this.options.srsKey),
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
    });
    this.deps.logger.info(
      { queueId, messages: result.messageIds.length, outbound: result.outboundIds.length, size: bytes.length },
      'inbound message committed',
    );
    if (result.deliveries.length > 0 && this.deps.onQueued) {
      // After commit: a failure to queue loses nothing, the worker's sweep finds the rows.
      await Promise.resolve(this.deps.onQueued(result.deliveries)).catch((err: unknown) =>
        this.deps.logger.warn({ err, queueId }, 'could not queue forwards; the sweep will'),
      );
    }
    return `2.0.0 Ok: queued as ${queueId}`;
  }

  private async loadSettings(recipients: LocalRecipient[], sender: string): Promise<Map<string, MailboxSettings>> {
    const byTenant = new Map<string, string[]>();
    for (const r of recipients) {
      byTenant.set(r.tenant.id, [...(byTenant.get(r.tenant.id) ?? []), ...r.mailboxes.map((m) => m.mailboxId)]);
    }
    const merged = new Map<string, MailboxSettings>();
    for (const [tenantId, ids] of byTenant) {
      if (ids.length === 0) continue;
      for (const [id, s] of await this.deps.settings.load(tenantId, [...new Set(ids)], sender)) merged.set(id, s);
    }
    return merged;
  }

  private traceHeaders(
    queueId: string,
    envelope: EnvelopeInfo,
    recipients: LocalRecipient[],
    auth: AuthVerdict,
    spam: SpamScore,
  ): Buffer {
    const junkThreshold = recipients[0]?.tenant.spamJunkThreshold ?? this.options.junkThreshold;
    const received = receivedHeader({
      hostname: this.options.hostname,
      queueId,
      helo: envelope.helo,
      clientHostname: envelope.clientHostname,
      remoteIp: envelope.remoteIp,
      protocol: envelope.protocol,
      tls: envelope.tls,
      recipient: recipients.length === 1 ? recipients[0]!.address : null,
      sender: envelope.sender,
      now: new Date(),
    });
    const text =
      returnPathHeader(envelope.sender) +
      auth.headers +
      spamHeaders(spam, junkThreshold, this.options.hostname) +
      received;
    return Buffer.from(text, 'utf8');
  }
}

/** The header fields stored on message rows. */
export function headerSummary(summary: MessageSummary): HeaderSummary {
  const date = summary.headers.get('date');
  const sentAt = date ? new Date(date) : null;
  const from = summary.from[0];
  return {
    messageId: summary.headers.get('message-id')?.trim().slice(0, 998) ?? null,
    subject: summary.subject ? summary.subject.slice(0, 998) : null,
    fromAddress: from?.address ?? null,
    fromName: from?.name ?? null,
    toAddresses: summary.to.map((a) => a.address).slice(0, 100),
    sentAt: sentAt && !Number.isNaN(sentAt.getTime()) ? sentAt : null,
  };
}

/** Vacation replies composed before the commit, so the transaction does no MIME work. */
export async function composeReplies(
  tenants: TenantPlan[],
  summary: MessageSummary,
): Promise<Map<VacationPlan, Buffer>> {
  const out = new Map<VacationPlan, Buffer>();
  for (const plan of tenants.flatMap((t) => t.vacations)) {
    out.set(plan, await composeVacationReply(plan, summary.headers));
  }
  return out;
}

/**
 * The stored message in one buffer: our header fields, then the spooled bytes read straight into
 * place. This is the only time the whole message is in memory (the database insert needs it).
 */
export async function readWithPrefix(file: string, prefix: Buffer, size: number): Promise<Buffer> {
  const bytes = Buffer.allocUnsafe(prefix.length + size);
  prefix.copy(bytes, 0);
  const handle = await fs.promises.open(file, 'r');
  try {
    let offset = 0;
    while (offset < size) {
      const { bytesRead } = await handle.read(bytes, prefix.length + offset, size - offset, offset);
      if (bytesRead === 0) throw new Error(`spool file ${file} is shorter than the message`);
      offset += bytesRead;
    }
  } finally {
    await handle.close();
  }
  return bytes;
}
