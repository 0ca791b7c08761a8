import { Injectable } from '@nestjs/common';
import type {
  Delivery,
  DeliveryEvent,
  DeliveryEventType,
  DeliveryStatus,
  Domain,
  Folder,
  Mailbox,
  Message,
  OutboundMessage,
  Suppression,
  Tx,
} from '@mailroom/db';
import type { PageWindow } from '../common/pagination';

export type DeliveryRow = Delivery & { outboundMessage: OutboundMessage; events?: DeliveryEvent[] };
export type TracedMessage = Message & { mailbox: Mailbox & { domain: Domain }; folder: Folder };
export type TracedOutbound = OutboundMessage & { deliveries: (Delivery & { events: DeliveryEvent[] })[] };

export interface DeliveryListFilter {
  status?: DeliveryStatus | undefined;
  /** Any case. */
  recipient?: string | undefined;
  /** Forms of a Message-ID header to match (with and without angle brackets). */
  messageIds?: string[] | undefined;
  sender?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

export interface TraceFilter {
  messageIds?: string[] | undefined;
  recipient?: string | undefined;
  from?: Date | undefined;
  to?: Date | undefined;
}

const TRACE_LIMIT = 200;

/** The delivery log, delivery events and the tenant's suppression list. */
@Injectable()
export class DeliveryRepository {
  list(tx: Tx, tenantId: string, f: DeliveryListFilter, page: PageWindow): Promise<DeliveryRow[]> {
    return tx.delivery.findMany({
      where: {
        AND: [
          { tenantId },
          page.where,
          f.status ? { status: f.status } : {},
          f.recipient ? { recipient: { equals: f.recipient, mode: 'insensitive' } } : {},
          f.messageIds ? { outboundMessage: { messageIdHeader: { in: f.messageIds } } } : {},
          f.sender ? { outboundMessage: { envelopeFrom: { equals: f.sender, mode: 'insensitive' } } } : {},
          f.from ? { createdAt: { gte: f.from } } : {},
          f.to ? { createdAt: { lt: f.to } } : {},
        ],
      },
      include: { outboundMessage: true },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  /** One delivery with its message and its events in order. */
  find(tx: Tx, tenantId: string, id: string): Promise<DeliveryRow | null> {
    return tx.delivery.findFirst({
      where: { tenantId, id },
      include: { outboundMessage: true, events: { orderBy: { createdAt: 'asc' } } },
    });
  }

  /**
   * Compare-and-set on a queued or deferred delivery: due now (retry) or cancelled. False when
   * it is in another state (the worker may be sending it right now).
   */
  async retryOrCancel(tx: Tx, tenantId: string, id: string, action: 'retry' | 'cancel', at: Date): Promise<boolean> {
    const { count } = await tx.delivery.updateMany({
      where: { tenantId, id, status: { in: ['queued', 'deferred'] } },
      data: action === 'retry' ? { nextAttemptAt: at } : { status: 'cancelled' },
    });
    return count === 1;
  }

  /**
   * Compare-and-set on a bounced delivery: queued again, due now, with a new lifetime and its
   * failure notice owed again. False when it is no longer bounced.
   */
  async requeueBounced(tx: Tx, tenantId: string, id: string, at: Date, expiresAt: Date): Promise<boolean> {
    const { count } = await tx.delivery.updateMany({
      where: { tenantId, id, status: 'bounced' },
      data: { status: 'queued', nextAttemptAt: at, expiresAt, dsnSent: false },
    });
    return count === 1;
  }

  async addEvent(
    tx: Tx,
    tenantId: string,
    deliveryId: string,
    event: { type: DeliveryEventType; response: string },
  ): Promise<void> {
    await tx.deliveryEvent.create({ data: { tenantId, deliveryId, ...event } });
  }

  /** Inbound messages by Message-ID or envelope recipient, oldest first (at most 200). */
  traceInbound(tx: Tx, tenantId: string, f: TraceFilter): Promise<TracedMessage[]> {
    return tx.message.findMany({
      where: {
        tenantId,
        ...(f.messageIds ? { messageIdHeader: { in: f.messageIds } } : {}),
        ...(f.recipient ? { envelopeTo: { equals: f.recipient, mode: 'insensitive' } } : {}),
        ...(f.from || f.to ? { receivedAt: range(f) } : {}),
      },
      include: { mailbox: { include: { domain: true } }, folder: true },
      orderBy: { receivedAt: 'asc' },
      take: TRACE_LIMIT,
    });
  }

  /**
   * Outbound messages with their deliveries and events, oldest first (at most 200): by
   * Message-ID or as copies of `sourceMessageIds`, else by a delivery's recipient.
   */
  traceOutbound(tx: Tx, tenantId: string, f: TraceFilter, sourceMessageIds: string[]): Promise<TracedOutbound[]> {
    return tx.outboundMessage.findMany({
      where: {
        tenantId,
        ...(f.messageIds
          ? { OR: [{ messageIdHeader: { in: f.messageIds } }, { sourceMessageId: { in: sourceMessageIds } }] }
          : { deliveries: { some: { recipient: { equals: f.recipient!, mode: 'insensitive' } } } }),
        ...(f.from || f.to ? { createdAt: range(f) } : {}),
      },
      include: { deliveries: { include: { events: { orderBy: { createdAt: 'asc' } } } } },
      orderBy: { createdAt: 'asc' },
      take: TRACE_LIMIT,
    });
  }

  listSuppressions(
    tx: Tx,
    tenantId: string,
    addressPart: string | undefined,
    page: PageWindow,
  ): Promise<Suppression[]> {
    return tx.suppression.findMany({
      where: { AND: [{ tenantId }, page.where, addressPart ? { address: { contains: addressPart } } : {}] },
      orderBy: page.orderBy,
      take: page.take,
    });
  }

  findSuppression(tx: Tx, tenantId: string, ref: { id: string } | { address: string }): Promise<Suppression | null> {
    return 'id' in ref
      ? tx.suppression.findFirst({ where: { tenantId, id: ref.id } })
      : tx.suppression.findUnique({ where: { tenantId_address: { tenantId, address: ref.address } } });
  }

  addSuppression(tx: Tx, tenantId: string, address: string, detail: string | null): Promise<Suppression> {
    return tx.suppression.create({ data: { tenantId, address, reason: 'manual', detail } });
  }

  async removeSuppression(tx: Tx, tenantId: string, id: string): Promise<void> {
    await tx.suppression.delete({ where: { tenantId_id: { tenantId, id } } });
  }
}

function range(f: TraceFilter) {
  return { ...(f.from ? { gte: f.from } : {}), ...(f.to ? { lt: f.to } : {}) };
}
