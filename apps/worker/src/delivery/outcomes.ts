import type { Config } from '@mailroom/config';
import type { OutboundMessage, Prisma, PrismaClient } from '@mailroom/db';
import {
  buildDsn,
  classifyReply,
  enhancedCode,
  nextAttemptAt,
  type FailedRecipient,
  type RecipientReply,
} from '@mailroom/delivery';
import { setTimeout as sleep } from 'node:timers/promises';
import { recordEvent } from '@mailroom/webhooks';
import type { Claimed, DeliveryResult } from './delivery-agent';
import { storeGeneratedMessage } from './local-store';

export interface Attempt {
  replies: RecipientReply[];
  host: string | null;
  ip: string | null;
  durationMs: number;
}

type Outcome = {
  claimed: Claimed;
  reply: RecipientReply;
  status: 'delivered' | 'deferred' | 'bounced';
  next: Date | null;
  hard: boolean;
  diagnostic: string;
};

function decide(config: Config, claimed: Claimed, reply: RecipientReply, now: Date): Outcome {
  const cls = classifyReply(reply.code);
  if (cls === 'deferred') {
    const next = nextAttemptAt(claimed.attempts, config.DELIVERY_RETRY_SCHEDULE, now, claimed.expires_at);
    if (next) return { claimed, reply, status: 'deferred', next, hard: false, diagnostic: reply.response };
    // Out of time: give up honestly, with the last reply in the report.
    const diagnostic = `4.4.7 Gave up after ${claimed.attempts} attempts; last reply: ${reply.response}`;
    return { claimed, reply, status: 'bounced', next: null, hard: false, diagnostic };
  }
  return { claimed, reply, status: cls, next: null, hard: cls === 'bounced', diagnostic: reply.response };
}

/**
 * Writes what one attempt decided, in one transaction: each delivery's new state (compare-and-
 * set from 'sending', so a delivery is never marked twice), an event per attempt with the full
 * reply and timing, suppressions for hard bounces, webhook events, and one DSN for the bounced
 * recipients of a message a local user sent.
 */
export async function recordOutcomes(
  prisma: PrismaClient,
  config: Config,
  input: {
    tenantId: string;
    message: OutboundMessage & { blob: { bytes: Uint8Array | null } };
    claimed: Claimed[];
    attempt: Attempt;
  },
): Promise<DeliveryResult> {
  const now = new Date();
  const byRecipient = new Map(input.attempt.replies.map((r) => [r.recipient, r]));
  const outcomes = input.claimed.map((c) =>
    decide(
      config,
      c,
      byRecipient.get(c.recipient) ?? { recipient: c.recipient, response: '4.4.1 No answer for this recipient' },
      now,
    ),
  );
  const dsn = await dsnFor(
    config,
    input.message,
    outcomes.filter((o) => o.status === 'bounced'),
    input.attempt.host,
  );

  // The remote has answered: this record must land, or a delivery it took stays 'sending' and
  // the stuck-row sweep sends it again. Prisma's default of 5 s lost it under lock waits and
  // load, so the transaction gets longer, and is tried again; the compare-and-set (this claim's
  // row and attempt, still 'sending') makes a retry after a commit whose answer was lost a no-op.
  for (let attempt = 1; ; attempt++) {
    try {
      return await prisma.$transaction((tx) => writeOutcomes(tx, input, outcomes, dsn, now), {
        timeout: OUTCOME_TX_TIMEOUT_MS,
        maxWait: OUTCOME_TX_MAX_WAIT_MS,
      });
    } catch (err) {
      if (attempt >= OUTCOME_TX_ATTEMPTS) throw err;
      await sleep(attempt * 1_000);
    }
  }
}

// Well inside the stuck-row window (15 minutes after the attempt began, which a session may
// take 10 of): 3 x (5 s wait for a connection + 20 s) plus the pauses.
const OUTCOME_TX_TIMEOUT_MS = 20_000;
const OUTCOME_TX_MAX_WAIT_MS = 5_000;
const OUTCOME_TX_ATTEMPTS = 3;

async function writeOutcomes(
  tx: Prisma.TransactionClient,
  input: {
    tenantId: string;
    message: OutboundMessage & { blob: { bytes: Uint8Array | null } };
    attempt: Attempt;
  },
  all: Outcome[],
  dsnBytes: Buffer | null,
  now: Date,
): Promise<DeliveryResult> {
  const webhookDeliveryIds: string[] = [];
  const outcomes: Outcome[] = [];
  for (const o of all) {
    const updated = await tx.delivery.updateMany({
      // Only this claim's own attempt: a row the stuck-row sweep handed to another worker is theirs.
      where: { tenantId: input.tenantId, id: o.claimed.id, status: 'sending', attempts: o.claimed.attempts },
      data: {
        status: o.status,
        lastResponse: o.diagnostic,
        lastResponseCode: o.reply.code ?? null,
        remoteHost: input.attempt.host,
        ...(o.status === 'delivered' ? { deliveredAt: now } : {}),
        ...(o.next ? { nextAttemptAt: o.next } : {}),
        ...(o.status === 'bounced' && dsnBytes ? { dsnSent: true } : {}),
      },
    });
    // Not 'sending' any more: this outcome is already recorded (a retried write).
    if (updated.count === 0) continue;
    outcomes.push(o);
    await tx.deliveryEvent.createMany({
      data: [
        {
          tenantId: input.tenantId,
          deliveryId: o.claimed.id,
          type: 'attempt',
          remoteHost: input.attempt.host,
          remoteIp: input.attempt.ip,
          smtpCode: o.reply.code ?? null,
          enhancedCode: enhancedCode(o.reply.response),
          response: o.reply.response,
          durationMs: input.attempt.durationMs,
        },
        { tenantId: input.tenantId, deliveryId: o.claimed.id, type: o.status, response: o.diagnostic },
      ],
    });
    if (o.hard) {
      await tx.suppression.upsert({
        where: { tenantId_address: { tenantId: input.tenantId, address: o.claimed.recipient.toLowerCase() } },
        create: {
          tenantId: input.tenantId,
          address: o.claimed.recipient.toLowerCase(),
          reason: 'hard_bounce',
          detail: o.diagnostic.slice(0, 500),
        },
        update: {},
      });
    }
    webhookDeliveryIds.push(
      ...(await recordEvent(tx, input.tenantId, `delivery.${o.status}`, {
        deliveryId: o.claimed.id,
        outboundMessageId: input.message.id,
        messageId: input.message.messageIdHeader,
        recipient: o.claimed.recipient,
        attempts: o.claimed.attempts,
        response: o.diagnostic,
        nextAttemptAt: o.next?.toISOString() ?? null,
      })),
    );
  }
  const dsn = outcomes.some((o) => o.status === 'bounced') ? dsnBytes : null;
  if (dsn && input.message.mailboxId) await storeDsn(tx, input.tenantId, input.message, dsn);
  const count = (s: string) => outcomes.filter((o) => o.status === s).length;
  return {
    claimed: outcomes.length,
    delivered: count('delivered'),
    deferred: count('deferred'),
    bounced: count('bounced'),
    webhookDeliveryIds,
    retries: outcomes
      .filter((o) => o.status === 'deferred' && o.next)
      .map((o) => ({ deliveryId: o.claimed.id, attempt: o.claimed.attempts, at: o.next! })),
  };
}

/**
 * One DSN for the bounced recipients, only for mail a local user submitted: a DSN, a vacation
 * reply or a forward never gets one from us (null sender, RFC 3834 and no backscatter).
 */
async function dsnFor(
  config: Config,
  message: OutboundMessage & { blob: { bytes: Uint8Array | null } },
  bounced: Outcome[],
  host: string | null,
): Promise<Buffer | null> {
  if (bounced.length === 0 || message.kind !== 'submission' || !message.mailboxId || message.envelopeFrom === '') {
    return null;
  }
  const raw = Buffer.from(message.blob.bytes ?? new Uint8Array());
  const end = raw.indexOf('\r\n\r\n');
  const failed: FailedRecipient[] = bounced.map((o) => ({
    recipient: o.claimed.recipient,
    status: enhancedCode(o.diagnostic) ?? (o.hard ? '5.0.0' : '4.0.0'),
    remoteMta: host,
    diagnostic: o.diagnostic,
  }));
  return buildDsn({
    reportingMta: config.MX_HOSTNAME,
    to: message.envelopeFrom,
    from: `MAILER-DAEMON@${config.BOUNCE_DOMAIN ?? config.MX_HOSTNAME}`,
    originalHeaders: raw.subarray(0, end < 0 ? raw.length : end + 2).toString('utf8'),
    originalMessageId: message.messageIdHeader,
    originalSubject: message.subject,
    arrivalDate: message.createdAt,
    failed,
  });
}

async function storeDsn(
  tx: Prisma.TransactionClient,
  tenantId: string,
  message: OutboundMessage,
  dsn: Buffer,
): Promise<void> {
  await storeGeneratedMessage(tx, { tenantId, mailboxId: message.mailboxId!, folderKind: 'inbox' }, dsn, {
    envelopeFrom: '',
    envelopeTo: message.envelopeFrom,
    subject: `Undelivered Mail Returned to Sender${message.subject ? `: ${message.subject}` : ''}`,
    fromAddress: `MAILER-DAEMON`,
    messageId: null,
  });
}
