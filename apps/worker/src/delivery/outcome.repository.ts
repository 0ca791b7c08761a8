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
 * every delivery attempt; its generic plan is checked in bench/statement-plans.mjs). $1 tenant
 * id, then one array per column of the outcomes: $2 delivery ids, $3 attempts, $4 status, $5
 * response, $6 code, $7 remote host, $8 next attempt, and the attempt event's $9 host, $10 ip,
 * $11 code, $12 enhanced code, $13 response, $14 duration. See {@link OutcomeRepository.recordPlain}.
 */
const RECORD_PLAIN = defineStatement<
  { subscribed: boolean; recorded: string[] | null },
  [
    string,
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
       $2::uuid[], $3::int[], $4::text[], $5::text[], $6::int[], $7::text[], $8::timestamptz[], $9::text[],
       $10::text[], $11::int[], $12::text[], $13::text[], $14::int[]
     ) AS i(id, attempts, status, response, code, host, next_at, ev_host, ev_ip, ev_code, ev_enhanced, ev_response, ev_ms)
   ), hooks AS (
     SELECT 1 FROM webhooks
     WHERE tenant_id = $1::uuid AND enabled
       AND events && ARRAY['delivery.delivered', 'delivery.deferred', '*']::text[]
     LIMIT 1
   ), updated AS (
     UPDATE deliveries d
     SET status = i.status::"DeliveryStatus", last_response = i.response, last_response_code = i.code,
       remote_host = i.host, next_attempt_at = coalesce(i.next_at, d.next_attempt_at),
       delivered_at = CASE WHEN i.status = 'delivered' THEN now() ELSE d.delivered_at END, updated_at = now()
     FROM input i
     WHERE d.tenant_id = $1::uuid AND d.id = i.id AND d.status = 'sending' AND d.attempts = i.attempts
       AND NOT EXISTS (SELECT 1 FROM hooks)
     RETURNING d.id
   ), events AS (
     INSERT INTO delivery_events
       (tenant_id, delivery_id, type, remote_host, remote_ip, smtp_code, enhanced_code, response, duration_ms)
     SELECT $1::uuid, i.id, e.type::"DeliveryEventType", e.host, e.ip, e.code, e.enhanced, e.response, e.ms
     FROM input i JOIN updated u ON u.id = i.id
     CROSS JOIN LATERAL (VALUES
       (1, 'attempt', i.ev_host, i.ev_ip, i.ev_code, i.ev_enhanced, i.ev_response, i.ev_ms),
       (2, i.status, NULL, NULL, NULL, NULL, i.response, NULL)
     ) AS e(n, type, host, ip, code, enhanced, response, ms)
     ORDER BY i.id, e.n
   )
   SELECT EXISTS (SELECT 1 FROM hooks) AS subscribed, (SELECT array_agg(id::text) FROM updated) AS recorded`,
);

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
   * The common outcome in one statement (one round trip, its own transaction): each delivery
   * delivered or deferred, compare-and-set from this claim's 'sending' as {@link recordAttempt},
   * with its attempt and status events, when nothing else is owed: the tenant has no webhook
   * subscribed to delivery events (otherwise nothing is written and `subscribed` is true, and
   * the caller writes the outcome in a transaction with the webhook events). Returns the ids
   * written (those still this claim's).
   */
  static async recordPlain(
    prisma: PrismaClient,
    tenantId: string,
    outcomes: PlainOutcome[],
  ): Promise<{ subscribed: boolean; recorded: string[] }> {
    const col = <T>(pick: (o: PlainOutcome) => T): T[] => outcomes.map(pick);
    const rows = await RECORD_PLAIN.run(prisma, [
      tenantId,
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
      col((o) => o.event.durationMs),
    ]);
    return { subscribed: rows[0]?.subscribed ?? false, recorded: rows[0]?.recorded ?? [] };
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
