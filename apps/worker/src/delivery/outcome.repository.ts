import { defineStatement, type Prisma, type PrismaClient } from '@mailroom/db';
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

/** A delivered or deferred attempt with its attempt event, for {@link OutcomeRepository.recordPlain}. */
export interface PlainOutcome extends AttemptOutcome {
  event: Omit<AttemptEvent, 'deliveryId'>;
}

/**
 * A named prepared statement (parsed and planned once per pooled connection; it runs for nearly
 * every delivery attempt; its generic plan is checked in bench/statement-plans.mjs). One array
 * per column of the outcomes, which may come from several jobs and tenants: $1 tenant ids, $2
 * delivery ids, $3 attempts, $4 status, $5 response, $6 code, $7 remote host, $8 next attempt,
 * and the attempt event's $9 host, $10 ip, $11 code, $12 enhanced code, $13 response, $14
 * duration. Returns the tenants with a webhook subscribed to delivery events (their outcomes
 * are not written) and the deliveries written. See {@link OutcomeRepository.recordPlain}.
 */
const RECORD_PLAIN = defineStatement<
  { subscribed: string[] | null; recorded: string[] | null },
  [
    string[],
    string[],
    number[],
    string[],
    string[],
    (number | null)[],
    (string | null)[],
    (string | null)[],
    (string | null)[],
    (string | null)[],
    (number | null)[],
    (string | null)[],
    string[],
    number[],
  ]
>(
  'delivery_record_plain',
  `WITH input AS (
     SELECT * FROM unnest(
       $1::uuid[], $2::uuid[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[],
       $9::text[], $10::text[], $11::int[], $12::text[], $13::text[], $14::int[]
     ) AS i(tenant_id, id, attempts, status, response, code, host, next_at, ev_host, ev_ip, ev_code, ev_enhanced,
       ev_response, ev_ms)
   ), hooked AS (
     SELECT t.tenant_id FROM (SELECT DISTINCT tenant_id FROM input) t
     WHERE EXISTS (
       SELECT 1 FROM webhooks w
       WHERE w.tenant_id = t.tenant_id AND w.enabled
         AND w.events && ARRAY['delivery.delivered', 'delivery.deferred', '*']::text[]
     )
   ), updated AS (
     UPDATE deliveries d
     SET status = i.status::"DeliveryStatus", last_response = i.response, last_response_code = i.code,
       remote_host = i.host, next_attempt_at = coalesce(i.next_at, d.next_attempt_at),
       delivered_at = CASE WHEN i.status = 'delivered' THEN now() ELSE d.delivered_at END, updated_at = now()
     FROM input i
     WHERE d.tenant_id = i.tenant_id AND d.id = i.id AND d.status = 'sending' AND d.attempts = i.attempts
       AND i.tenant_id NOT IN (SELECT tenant_id FROM hooked)
     RETURNING d.tenant_id, d.id
   ), events AS (
     INSERT INTO delivery_events
       (tenant_id, delivery_id, type, remote_host, remote_ip, smtp_code, enhanced_code, response, duration_ms)
     SELECT i.tenant_id, i.id, e.type::"DeliveryEventType", e.host, e.ip, e.code, e.enhanced, e.response, e.ms
     FROM input i JOIN updated u ON u.tenant_id = i.tenant_id AND u.id = i.id
     CROSS JOIN LATERAL (VALUES
       (1, 'attempt', i.ev_host, i.ev_ip, i.ev_code, i.ev_enhanced, i.ev_response, i.ev_ms),
       (2, i.status, NULL, NULL, NULL, NULL, i.response, NULL)
     ) AS e(n, type, host, ip, code, enhanced, response, ms)
     ORDER BY i.tenant_id, i.id, e.n
   )
   SELECT (SELECT array_agg(tenant_id::text) FROM hooked) AS subscribed,
     (SELECT array_agg(id::text) FROM updated) AS recorded`,
);

interface PlainWrite {
  tenantId: string;
  outcomes: PlainOutcome[];
  resolve: (result: { subscribed: boolean; recorded: string[] }) => void;
  reject: (err: unknown) => void;
}

/** Outcomes of this many jobs at most go in one statement. */
const PLAIN_BATCH_LIMIT = 100;

/**
 * Group commit of plain outcomes: while one statement is on its way, the outcomes that finish
 * meanwhile wait and then go together in the next (one round trip, one transaction, one WAL
 * flush for all of them). A lone outcome goes at once, so nothing waits for a timer. Each
 * caller's promise settles only when the statement carrying its outcome has committed; if a
 * batch fails, each of its outcomes is written alone, so one bad row cannot fail its neighbours.
 */
class PlainOutcomeWriter {
  private readonly pending: PlainWrite[] = [];
  private writing = false;

  constructor(private readonly prisma: PrismaClient) {}

  record(tenantId: string, outcomes: PlainOutcome[]): Promise<{ subscribed: boolean; recorded: string[] }> {
    return new Promise((resolve, reject) => {
      this.pending.push({ tenantId, outcomes, resolve, reject });
      if (!this.writing) void this.drain();
    });
  }

  private async drain(): Promise<void> {
    this.writing = true;
    try {
      while (this.pending.length > 0) {
        const batch = this.pending.splice(0, PLAIN_BATCH_LIMIT);
        try {
          this.settle(batch, await this.write(batch));
        } catch (err) {
          if (batch.length === 1) {
            batch[0]!.reject(err);
            continue;
          }
          for (const one of batch) {
            try {
              this.settle([one], await this.write([one]));
            } catch (e) {
              one.reject(e);
            }
          }
        }
      }
    } finally {
      this.writing = false;
    }
  }

  private settle(batch: PlainWrite[], result: { subscribed: Set<string>; recorded: Set<string> }): void {
    for (const w of batch) {
      w.resolve({
        subscribed: result.subscribed.has(w.tenantId),
        recorded: w.outcomes.map((o) => o.deliveryId).filter((id) => result.recorded.has(id)),
      });
    }
  }

  private async write(batch: PlainWrite[]): Promise<{ subscribed: Set<string>; recorded: Set<string> }> {
    const rows = batch.flatMap((w) => w.outcomes.map((o) => ({ tenantId: w.tenantId, o })));
    const col = <T>(pick: (o: PlainOutcome) => T): T[] => rows.map((r) => pick(r.o));
    const result = await RECORD_PLAIN.run(this.prisma, [
      rows.map((r) => r.tenantId),
      col((o) => o.deliveryId),
      col((o) => o.attempts),
      col((o) => o.status),
      col((o) => o.response),
      col((o) => o.smtpCode),
      col((o) => o.remoteHost),
      col((o) => o.nextAttemptAt?.toISOString() ?? null),
      col((o) => o.event.remoteHost),
      col((o) => o.event.remoteIp),
      col((o) => o.event.smtpCode),
      col((o) => o.event.enhancedCode),
      col((o) => o.event.response),
      col((o) => Math.round(o.event.durationMs)),
    ]);
    return {
      subscribed: new Set(result[0]?.subscribed ?? []),
      recorded: new Set(result[0]?.recorded ?? []),
    };
  }
}

/** One group-commit writer per database client (the worker has one). */
const plainWriters = new WeakMap<PrismaClient, PlainOutcomeWriter>();

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

  /**
   * The common outcome in one statement (one round trip, its own transaction, shared with the
   * outcomes of other jobs that finish while one is being written: see PlainOutcomeWriter): each delivery
   * delivered or deferred, compare-and-set from this claim's 'sending' as {@link recordAttempt},
   * with its attempt and status events, when nothing else is owed: the tenant has no webhook
   * subscribed to delivery events (otherwise nothing is written and `subscribed` is true, and
   * the caller writes the outcome in a transaction with the webhook events). Returns the ids
   * written (those still this claim's).
   */
  static recordPlain(
    prisma: PrismaClient,
    tenantId: string,
    outcomes: PlainOutcome[],
  ): Promise<{ subscribed: boolean; recorded: string[] }> {
    let writer = plainWriters.get(prisma);
    if (!writer) {
      writer = new PlainOutcomeWriter(prisma);
      plainWriters.set(prisma, writer);
    }
    return writer.record(tenantId, outcomes);
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
