import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '@mailroom/config';
import type { Db, Tx } from '@mailroom/db';
import {
  BounceRepository,
  classifyReply,
  dsnRequested,
  enhancedCode,
  nextAttemptAt,
  successAction,
  type RecipientReply,
} from '@mailroom/delivery';
import type { Attempt, Claimed, DeliveryResult, OutboundForDelivery } from './delivery.types';
import { sendNotifications, type Notice } from './notifications';
import { OutcomeRepository, type AttemptEvent } from './outcome.repository';

export interface Outcome {
  claimed: Claimed;
  reply: RecipientReply;
  attempt: Attempt;
  status: 'delivered' | 'deferred' | 'bounced';
  next: Date | null;
  hard: boolean;
  diagnostic: string;
  /** When we give up on it. */
  deadline: Date;
}

export interface OutcomeInput {
  tenantId: string;
  message: OutboundForDelivery;
  claimed: Claimed[];
  /** One per SMTP transaction of the batch (recipients with different DSN parameters go apart). */
  attempts: Attempt[];
}

/**
 * When a delivery is given up: its own expiry, or earlier when its message is older than the
 * lifetime of its kind (DELIVERY_MAX_AGE_HOURS, FORWARD_DELIVERY_MAX_AGE_HOURS).
 */
export function deadlineOf(config: Config, message: OutboundForDelivery, claimed: Claimed): Date {
  const hours = message.kind === 'forward' ? config.FORWARD_DELIVERY_MAX_AGE_HOURS : config.DELIVERY_MAX_AGE_HOURS;
  const lifetime = message.createdAt.getTime() + hours * 3_600_000;
  return new Date(Math.min(claimed.expiresAt.getTime(), lifetime));
}

function decide(config: Config, input: OutcomeInput, claimed: Claimed, now: Date): Outcome {
  let attempt = input.attempts.find((a) => a.replies.some((r) => r.recipient === claimed.recipient));
  const reply = attempt?.replies.find((r) => r.recipient === claimed.recipient) ?? {
    recipient: claimed.recipient,
    response: '4.4.1 No answer for this recipient',
  };
  attempt ??= { replies: [reply], host: null, ip: null, durationMs: 0, dsnPassedOn: false };
  const deadline = deadlineOf(config, input.message, claimed);
  const base = { claimed, reply, attempt, deadline, diagnostic: reply.response };
  const cls = classifyReply(reply.code);
  if (cls === 'deferred') {
    const next = nextAttemptAt(claimed.attempts, config.DELIVERY_RETRY_SCHEDULE, now, deadline);
    if (next) return { ...base, status: 'deferred', next, hard: false };
    // Out of time: give up honestly, with the last reply in the report.
    const diagnostic = `4.4.7 Gave up after ${claimed.attempts} attempts; last reply: ${reply.response}`;
    return { ...base, status: 'bounced', next: null, hard: false, diagnostic };
  }
  return { ...base, status: cls, next: null, hard: cls === 'bounced' };
}

/**
 * Writes what one attempt decided, in one transaction: each delivery's new state (compare-and-
 * set from 'sending', so a delivery is never marked twice), an event per attempt with the full
 * reply and timing, bounces through libs/delivery's BounceRepository (suppression, webhook
 * event), webhook events, and the DSNs the senders asked for (RFC 3461 NOTIFY).
 */
export async function recordOutcomes(prisma: Db, config: Config, input: OutcomeInput): Promise<DeliveryResult> {
  const now = new Date();
  const outcomes = input.claimed.map((c) => decide(config, input, c, now));
  // The remote has answered: this record must land, or a delivery it took stays 'sending' and
  // the stuck-row sweep sends it again. Prisma's default of 5 s lost it under lock waits and
  // load, so the transaction gets longer, and is tried again; the compare-and-set (this claim's
  // row and attempt, still 'sending') makes a retry after a commit whose answer was lost a no-op.
  // Delivered and deferred with no DSN owed (nearly every outcome): one statement, unless the
  // tenant has webhooks for delivery events, which are written with it in a transaction.
  const plain = outcomes.every((o) => o.status !== 'bounced') && noticesFor(outcomes).length === 0;
  for (let attempt = 1; ; attempt++) {
    try {
      if (plain) {
        const written = await writePlainOutcomes(prisma, input.tenantId, outcomes);
        if (written) return written;
      }
      return await OutcomeRepository.transaction(prisma, (tx) => writeOutcomes(tx, config, input, outcomes), {
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

function attemptEvent(o: Outcome): Omit<AttemptEvent, 'deliveryId'> {
  return {
    remoteHost: o.attempt.host,
    remoteIp: o.attempt.ip,
    smtpCode: o.reply.code ?? null,
    enhancedCode: enhancedCode(o.reply.response),
    response: o.reply.response,
    durationMs: o.attempt.durationMs,
  };
}

/** Delivered and deferred outcomes in one statement; null when webhooks want events (the transaction writes them). */
async function writePlainOutcomes(prisma: Db, tenantId: string, all: Outcome[]): Promise<DeliveryResult | null> {
  const { subscribed, recorded } = await OutcomeRepository.recordPlain(
    prisma,
    tenantId,
    all.map((o) => ({
      deliveryId: o.claimed.id,
      attempts: o.claimed.attempts,
      status: o.status as 'delivered' | 'deferred',
      response: o.diagnostic,
      smtpCode: o.reply.code ?? null,
      remoteHost: o.attempt.host,
      nextAttemptAt: o.next,
      event: attemptEvent(o),
    })),
  );
  if (subscribed) return null;
  const written = new Set(recorded);
  return summary(
    all.filter((o) => written.has(o.claimed.id)),
    [],
    [],
  );
}

function summary(outcomes: Outcome[], webhookDeliveryIds: string[], queued: string[]): DeliveryResult {
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
    queued,
  };
}

async function writeOutcomes(tx: Tx, config: Config, input: OutcomeInput, all: Outcome[]): Promise<DeliveryResult> {
  const { tenantId, message } = input;
  const repo = new OutcomeRepository(tx);
  const bounces = new BounceRepository(tx);
  const webhookDeliveryIds: string[] = [];
  const outcomes: Outcome[] = [];
  for (const o of all) {
    const attempt = attemptEvent(o);
    if (o.status === 'bounced') {
      const bounced = await bounces.record(tenantId, {
        deliveryId: o.claimed.id,
        // Only this claim's own attempt: a row the stuck-row sweep handed to another worker is theirs.
        from: { statuses: ['sending'], attempts: o.claimed.attempts },
        response: o.diagnostic,
        smtpCode: o.reply.code ?? null,
        enhancedCode: enhancedCode(o.diagnostic),
        hard: o.hard,
        remoteHost: o.attempt.host,
        attempt,
      });
      // Not 'sending' any more: this outcome is already recorded (a retried write).
      if (!bounced) continue;
      webhookDeliveryIds.push(...bounced.webhookDeliveryIds);
    } else {
      const recorded = await repo.recordAttempt(
        tenantId,
        {
          deliveryId: o.claimed.id,
          attempts: o.claimed.attempts,
          status: o.status,
          response: o.diagnostic,
          smtpCode: o.reply.code ?? null,
          remoteHost: o.attempt.host,
          nextAttemptAt: o.next,
        },
        { deliveryId: o.claimed.id, ...attempt },
      );
      if (!recorded) continue;
      webhookDeliveryIds.push(
        ...(await repo.webhookEvent(tenantId, `delivery.${o.status}`, {
          deliveryId: o.claimed.id,
          outboundMessageId: message.id,
          messageId: message.messageIdHeader,
          recipient: o.claimed.recipient,
          attempts: o.claimed.attempts,
          response: o.diagnostic,
          nextAttemptAt: o.next?.toISOString() ?? null,
        })),
      );
    }
    outcomes.push(o);
  }
  const queued = await sendNotifications(tx, config, message, noticesFor(outcomes));
  return summary(outcomes, webhookDeliveryIds, queued);
}

/**
 * The DSNs the recorded outcomes owe their sender (RFC 3461 §4.1): failures unless NOTIFY
 * excludes them, a delay notice once (the first deferral) when NOTIFY has DELAY, and 'relayed'
 * when NOTIFY has SUCCESS and the next hop did not take the request on.
 */
function noticesFor(outcomes: Outcome[]): Notice[] {
  const notices: Notice[] = [];
  for (const o of outcomes) {
    const notify = o.claimed.dsnNotify;
    const base = {
      deliveryId: o.claimed.id,
      recipient: o.claimed.recipient,
      originalRecipient: o.claimed.dsnOrcpt,
      remoteMta: o.attempt.host,
    };
    if (o.status === 'bounced' && dsnRequested(notify, 'failure')) {
      notices.push({
        ...base,
        action: 'failed',
        status: enhancedCode(o.diagnostic) ?? (o.hard ? '5.0.0' : '4.0.0'),
        diagnostic: o.diagnostic,
      });
    } else if (o.status === 'deferred' && !o.claimed.dsnSent && dsnRequested(notify, 'delay')) {
      notices.push({
        ...base,
        action: 'delayed',
        status: enhancedCode(o.diagnostic) ?? '4.0.0',
        diagnostic: o.diagnostic,
        willRetryUntil: o.deadline,
      });
    } else if (o.status === 'delivered' && successAction(notify, o.attempt.dsnPassedOn) === 'relayed') {
      notices.push({ ...base, action: 'relayed', status: '2.0.0', diagnostic: o.diagnostic });
    }
  }
  return notices;
}
