import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { Conflict, NotFound } from '@mailroom/core';
import { JobName } from '@mailroom/queue';
import { AuditService } from '../audit/audit.service';
import type { CallContext } from '../auth/request-context';
import { keyset, parseSort, type Page } from '../common/pagination';
import { QueueService } from '../infra/queue.service';
import { CONFIG } from '../infra/tokens';
import { TenantDb, type Tx } from '../infra/tenant-db.service';
import type { DeliveryResponse, ListDeliveriesQuery, TraceQuery, TraceResponse } from './delivery.dto';
import { DeliveryRepository, type DeliveryRow as Row } from './delivery.repository';

export function presentDelivery(d: Row): DeliveryResponse {
  const m = d.outboundMessage;
  return {
    id: d.id,
    outboundMessageId: d.outboundMessageId,
    kind: m.kind,
    messageId: m.messageIdHeader,
    sender: m.envelopeFrom,
    subject: m.subject,
    recipient: d.recipient,
    status: d.status,
    attempts: d.attempts,
    nextAttemptAt: d.status === 'queued' || d.status === 'deferred' ? d.nextAttemptAt.toISOString() : null,
    lastResponse: d.lastResponse,
    lastResponseCode: d.lastResponseCode,
    remoteHost: d.remoteHost,
    deliveredAt: d.deliveredAt?.toISOString() ?? null,
    createdAt: d.createdAt.toISOString(),
    ...(d.events
      ? {
          events: d.events.map((e) => ({
            type: e.type,
            remoteHost: e.remoteHost,
            remoteIp: e.remoteIp,
            smtpCode: e.smtpCode,
            enhancedCode: e.enhancedCode,
            response: e.response,
            durationMs: e.durationMs,
            createdAt: e.createdAt.toISOString(),
          })),
        }
      : {}),
  };
}

const bare = (messageId: string) => messageId.trim().replace(/^<|>$/g, '');
const headerForms = (messageId: string) => [bare(messageId), `<${bare(messageId)}>`];

/** The delivery log, retry and cancel, and the end-to-end trace of one message. */
@Injectable()
export class DeliveriesService {
  constructor(
    private readonly db: TenantDb,
    private readonly audit: AuditService,
    private readonly queue: QueueService,
    private readonly deliveries: DeliveryRepository,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async list(tenantId: string, q: ListDeliveriesQuery): Promise<Page<DeliveryResponse>> {
    const page = keyset(parseSort('-createdAt', ['createdAt'] as const, '-createdAt'), q.cursor, q.limit);
    const rows = await this.db.tenantRead(tenantId, (tx) =>
      this.deliveries.list(
        tx,
        tenantId,
        {
          status: q.status,
          recipient: q.recipient,
          messageIds: q.messageId ? headerForms(q.messageId) : undefined,
          sender: q.sender,
          from: q.from ? new Date(q.from) : undefined,
          to: q.to ? new Date(q.to) : undefined,
        },
        page,
      ),
    );
    const { rows: items, nextCursor } = page.page(rows);
    return { items: items.map(presentDelivery), nextCursor };
  }

  private async load(tx: Tx, tenantId: string, id: string): Promise<Row> {
    const row = /^[0-9a-f-]{36}$/i.test(id) ? await this.deliveries.find(tx, tenantId, id) : null;
    if (!row) throw new NotFound(`Delivery ${id} not found.`);
    return row;
  }

  async get(tenantId: string, id: string): Promise<DeliveryResponse> {
    return presentDelivery(await this.db.tenantRead(tenantId, (tx) => this.load(tx, tenantId, id)));
  }

  /**
   * Retry now or cancel: a queued or deferred delivery, by compare-and-set, so a delivery the
   * worker is sending right now is never changed under it. Retry also takes a bounced delivery
   * (the remote refused it or it expired; the admin knows it will work now): it is queued again
   * with a fresh lifetime (DELIVERY_MAX_AGE_HOURS) and a new failure notice if it bounces again,
   * unless the recipient is on the suppression list (lift it first: a hard bounce put it there).
   */
  async act(call: CallContext, tenantId: string, id: string, action: 'retry' | 'cancel'): Promise<DeliveryResponse> {
    const row = await this.db.tenant(tenantId, async (tx) => {
      const before = await this.load(tx, tenantId, id);
      const now = new Date();
      const resend = action === 'retry' && before.status === 'bounced';
      if (resend) {
        const suppressed = await this.deliveries.findSuppression(tx, tenantId, {
          address: before.recipient.toLowerCase(),
        });
        if (suppressed && (!suppressed.expiresAt || suppressed.expiresAt > now)) {
          throw new Conflict(
            `${before.recipient} is on the suppression list (${suppressed.reason}); lift the suppression before retrying delivery ${id}.`,
          );
        }
      }
      const expiresAt = new Date(now.getTime() + this.config.DELIVERY_MAX_AGE_HOURS * 3_600_000);
      const changed = resend
        ? await this.deliveries.requeueBounced(tx, tenantId, id, now, expiresAt)
        : await this.deliveries.retryOrCancel(tx, tenantId, id, action, now);
      if (!changed) {
        throw new Conflict(
          action === 'retry'
            ? `Delivery ${id} is ${before.status}; only queued, deferred or bounced deliveries can be retried.`
            : `Delivery ${id} is ${before.status}; only queued or deferred deliveries can be cancelled.`,
        );
      }
      await this.deliveries.addEvent(tx, tenantId, id, {
        type: action === 'retry' ? 'retry_requested' : 'cancelled',
        response: resend ? `by ${call.principal.label}, after it bounced` : `by ${call.principal.label}`,
      });
      await this.audit.record(tx, call, {
        tenantId,
        action: `delivery.${action}`,
        targetType: 'delivery',
        targetId: id,
        before: { status: before.status },
      });
      return this.load(tx, tenantId, id);
    });
    // Queue it now; if Redis refuses, the worker's sweep finds it due within a minute. A delivery
    // tried before goes to the retry lane (its scheduled retry job, promoted), so it does not
    // wait behind a backlog of new mail on the send queue.
    if (action === 'retry') {
      if (row.attempts > 0) {
        await this.queue.tryAddNow(JobName.DeliveryRetry, { tenantId, deliveryId: id, attempt: row.attempts });
      } else {
        await this.queue.tryAdd(JobName.DeliverySend, { tenantId, deliveryId: id });
      }
    }
    return presentDelivery(row);
  }

  /**
   * What happened to one message end to end: where it arrived (verdicts, the filter that fired,
   * the folder) and every outbound copy (forwards, replies, submissions) with every attempt.
   */
  async trace(tenantId: string, q: TraceQuery): Promise<TraceResponse> {
    const filter = {
      messageIds: q.messageId ? headerForms(q.messageId) : undefined,
      recipient: q.recipient,
      from: q.from ? new Date(q.from) : undefined,
      to: q.to ? new Date(q.to) : undefined,
    };
    return this.db.tenantRead(tenantId, async (tx) => {
      const inbound = await this.deliveries.traceInbound(tx, tenantId, filter);
      const outbound = await this.deliveries.traceOutbound(
        tx,
        tenantId,
        filter,
        inbound.map((m) => m.id),
      );
      return {
        inbound: inbound.map((m) => ({
          messageId: m.messageIdHeader,
          mailbox: `${m.mailbox.localPart}@${m.mailbox.domain.name}`,
          folder: m.folder.name,
          envelopeFrom: m.envelopeFrom,
          envelopeTo: m.envelopeTo,
          remoteIp: m.remoteIp,
          spamScore: m.spamScore,
          authResults: m.authResults,
          filterTrace: m.filterTrace,
          receivedAt: m.receivedAt.toISOString(),
        })),
        outbound: outbound.map((o) => ({
          id: o.id,
          kind: o.kind,
          messageId: o.messageIdHeader,
          envelopeFrom: o.envelopeFrom,
          subject: o.subject,
          createdAt: o.createdAt.toISOString(),
          deliveries: o.deliveries.map((d) => presentDelivery({ ...d, outboundMessage: o })),
        })),
      };
    });
  }
}
