import type { Prisma, PrismaClient } from '@mailroom/db';
import { queueGeneratedOutbound } from '@mailroom/mailstore';
import { recordEvent } from '@mailroom/webhooks';

type Tx = Prisma.TransactionClient;

/** A delivered or deferred attempt (bounces go through libs/delivery BounceRepository). */
export interface AttemptOutcome {
  deliveryId: string;
  /** Compare-and-set: still 'sending' after exactly this many attempts (this claim's own). */
  attempts: number;
  status: 'delivered' | 'deferred';
  response: string;
  smtpCode: number | null;
  remoteHost: string | null;
  nextAttemptAt: Date | null;
}

export interface AttemptEvent {
  deliveryId: string;
  remoteHost: string | null;
  remoteIp: string | null;
  smtpCode: number | null;
  enhancedCode: string | null;
  response: string;
  durationMs: number;
}

/** A DSN we send to a remote sender: an outbound message from the null sender. */
export interface QueuedDsn {
  to: string;
  bytes: Buffer;
  /** Our bounce domain: no tenant DKIM key signs it. */
  fromDomain: string;
  subject: string;
  expiresAt: Date;
}

/** The writes of one attempt's outcome, in the caller's transaction. */
export class OutcomeRepository {
  constructor(private readonly tx: Tx) {}

  /** Runs `work` in one transaction with the given limits (Prisma's default of 5 s is too short here). */
  static transaction<T>(
    prisma: PrismaClient,
    work: (tx: Tx) => Promise<T>,
    limits: { timeout: number; maxWait: number },
  ): Promise<T> {
    return prisma.$transaction(work, limits);
  }

  /** False when the delivery is not this claim's any more (already recorded, or handed to another worker). */
  async recordAttempt(tenantId: string, o: AttemptOutcome, event: AttemptEvent): Promise<boolean> {
    const updated = await this.tx.delivery.updateMany({
      where: { tenantId, id: o.deliveryId, status: 'sending', attempts: o.attempts },
      data: {
        status: o.status,
        lastResponse: o.response,
        lastResponseCode: o.smtpCode,
        remoteHost: o.remoteHost,
        ...(o.status === 'delivered' ? { deliveredAt: new Date() } : {}),
        ...(o.nextAttemptAt ? { nextAttemptAt: o.nextAttemptAt } : {}),
      },
    });
    if (updated.count === 0) return false;
    await this.tx.deliveryEvent.createMany({
      data: [
        { tenantId, type: 'attempt', ...event },
        { tenantId, deliveryId: o.deliveryId, type: o.status, response: o.response },
      ],
    });
    return true;
  }

  /** The `delivery.<status>` webhook event; returns the webhook deliveries to queue. */
  webhookEvent(
    tenantId: string,
    type: 'delivery.delivered' | 'delivery.deferred',
    data: Record<string, unknown>,
  ): Promise<string[]> {
    return recordEvent(this.tx, tenantId, type, data);
  }

  /** Marks that a DSN went out about these deliveries, with an event each. */
  async markDsnSent(tenantId: string, deliveryIds: string[], response: string): Promise<void> {
    if (deliveryIds.length === 0) return;
    await this.tx.delivery.updateMany({ where: { tenantId, id: { in: deliveryIds } }, data: { dsnSent: true } });
    await this.tx.deliveryEvent.createMany({
      data: deliveryIds.map((deliveryId) => ({ tenantId, deliveryId, type: 'dsn_sent' as const, response })),
    });
  }

  /** Queues a DSN for delivery to a remote sender through the mail store's outbox; returns the delivery's id. */
  queueDsn(tenantId: string, dsn: QueuedDsn): Promise<string> {
    return queueGeneratedOutbound(this.tx, tenantId, { kind: 'dsn', ...dsn }, dsn.expiresAt);
  }
}
