import type { DeliveryStatus, Prisma } from '@mailroom/db';
import { recordEvent } from '@mailroom/webhooks';

/** The attempt whose reply bounced a delivery, recorded as its own event before the bounce. */
export interface BounceAttempt {
  remoteHost: string | null;
  remoteIp: string | null;
  smtpCode: number | null;
  enhancedCode: string | null;
  response: string;
  durationMs: number;
}

export interface Bounce {
  deliveryId: string;
  /**
   * Compare-and-set: the delivery bounces only from one of these states (and, when given, after
   * exactly this many attempts), so a bounce is recorded once however many reports arrive.
   */
  from: { statuses: DeliveryStatus[]; attempts?: number };
  /** The reason, as the sender's DSN and the API show it. */
  response: string;
  smtpCode: number | null;
  enhancedCode: string | null;
  /** A permanent failure: the address is suppressed. A delivery that ran out of time is not. */
  hard: boolean;
  /** The host that answered; undefined leaves the recorded one (an asynchronous DSN). */
  remoteHost?: string | null;
  attempt?: BounceAttempt;
}

export interface RecordedBounce {
  deliveryId: string;
  outboundMessageId: string;
  recipient: string;
  attempts: number;
  /** Webhook deliveries to queue after commit. */
  webhookDeliveryIds: string[];
}

/** What a remote DSN said about a delivery that is not a failure (delayed, delivered, relayed). */
export interface RemoteReport {
  deliveryId: string;
  type: 'deferred' | 'delivered';
  smtpCode: number | null;
  enhancedCode: string | null;
  response: string;
}

/**
 * The one place a bounce is recorded, whether the remote refused at once (the worker) or sent a
 * DSN to our VERP address later (the MTA): the delivery marked bounced (compare-and-set), its
 * events, the address suppressed on a hard bounce, and the `delivery.bounced` webhook event. All
 * in the caller's transaction.
 */
export class BounceRepository {
  constructor(private readonly tx: Prisma.TransactionClient) {}

  /** Null when the delivery is not in a state `bounce.from` allows (already recorded, cancelled, gone). */
  async record(tenantId: string, bounce: Bounce): Promise<RecordedBounce | null> {
    const { tx } = this;
    const updated = await tx.delivery.updateMany({
      where: {
        tenantId,
        id: bounce.deliveryId,
        status: { in: bounce.from.statuses },
        ...(bounce.from.attempts === undefined ? {} : { attempts: bounce.from.attempts }),
      },
      data: {
        status: 'bounced',
        lastResponse: bounce.response,
        lastResponseCode: bounce.smtpCode,
        ...(bounce.remoteHost === undefined ? {} : { remoteHost: bounce.remoteHost }),
      },
    });
    if (updated.count === 0) return null;
    const row = await tx.delivery.findUniqueOrThrow({
      where: { tenantId_id: { tenantId, id: bounce.deliveryId } },
      select: { recipient: true, attempts: true, outboundMessageId: true, outboundMessage: true },
    });
    await tx.deliveryEvent.createMany({
      data: [
        ...(bounce.attempt
          ? [{ tenantId, deliveryId: bounce.deliveryId, type: 'attempt' as const, ...bounce.attempt }]
          : []),
        {
          tenantId,
          deliveryId: bounce.deliveryId,
          type: 'bounced' as const,
          smtpCode: bounce.smtpCode,
          enhancedCode: bounce.enhancedCode,
          response: bounce.response,
        },
      ],
    });
    if (bounce.hard) {
      const address = row.recipient.toLowerCase();
      await tx.suppression.upsert({
        where: { tenantId_address: { tenantId, address } },
        create: { tenantId, address, reason: 'hard_bounce', detail: bounce.response.slice(0, 500) },
        update: {},
      });
    }
    const webhookDeliveryIds = await recordEvent(tx, tenantId, 'delivery.bounced', {
      deliveryId: bounce.deliveryId,
      outboundMessageId: row.outboundMessageId,
      messageId: row.outboundMessage.messageIdHeader,
      recipient: row.recipient,
      attempts: row.attempts,
      response: bounce.response,
      nextAttemptAt: null,
    });
    return {
      deliveryId: bounce.deliveryId,
      outboundMessageId: row.outboundMessageId,
      recipient: row.recipient,
      attempts: row.attempts,
      webhookDeliveryIds,
    };
  }

  /** Records a remote report that is not a failure as an event; false when the delivery is gone. */
  async recordRemoteReport(tenantId: string, report: RemoteReport): Promise<boolean> {
    const exists = await this.tx.delivery.count({ where: { tenantId, id: report.deliveryId } });
    if (exists === 0) return false;
    await this.tx.deliveryEvent.create({
      data: {
        tenantId,
        deliveryId: report.deliveryId,
        type: report.type,
        smtpCode: report.smtpCode,
        enhancedCode: report.enhancedCode,
        response: report.response,
      },
    });
    return true;
  }
}
