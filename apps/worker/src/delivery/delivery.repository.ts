import { defineStatement, type OutboundKind, type PrismaClient } from '@mailroom/db';
import { objectKey } from '@mailroom/mailstore';
import type { Claimed, OutboundForDelivery } from './delivery.types';

export interface ActiveDkimKey {
  id: string;
  selector: string;
  privateKeyEncrypted: string;
}

interface ClaimSqlRow {
  claimed: {
    id: string;
    recipient: string;
    attempts: number;
    expires_at: string;
    dsn_notify: string[];
    dsn_orcpt: string | null;
    dsn_sent: boolean;
  }[];
  recipient_domain: string;
  id: string;
  kind: OutboundKind;
  mailbox_id: string | null;
  envelope_from: string;
  from_domain: string;
  message_id_header: string | null;
  subject: string | null;
  created_at: Date;
  dsn_ret: string | null;
  dsn_envid: string | null;
  bytes: Uint8Array | null;
  storage: string;
  storage_key: string | null;
  blob_sha256: string;
  key_id: string | null;
  key_selector: string | null;
  key_private: string | null;
}

/** What one claim took: the deliveries, their message with its bytes, and the signing key. */
export interface ClaimedBatch {
  domain: string;
  claimed: Claimed[];
  message: OutboundForDelivery;
  /** The newest active DKIM key of the sending domain (a live domain of the tenant), if any. */
  dkimKey: ActiveDkimKey | null;
  /**
   * Where the body is when it is not in the row (an S3 blob): `message.bytes` is then empty until
   * the agent reads it (readBody), outside this statement, so a store that is down is a temporary
   * failure of the attempt rather than a claim left in 'sending'.
   */
  objectBody: { storage: string; key: string } | null;
}

// Named prepared statements (parsed and planned once per pooled connection): the claim runs for
// every delivery job, the renewal for a claim that waited long for its slot. Their generic plans
// are checked in bench/statement-plans.mjs (index access whatever the tenant).

/**
 * $1 tenant id, $2 seed delivery id, $3 the seed's attempts when its job was queued. See
 * {@link DeliveryRepository.claim}.
 */
const CLAIM = defineStatement<ClaimSqlRow, [string, string, number]>(
  'delivery_claim',
  `WITH seed AS (
     SELECT outbound_message_id, recipient_domain FROM deliveries
     WHERE tenant_id = $1::uuid AND id = $2::uuid AND status IN ('queued', 'deferred')
   ), claimed AS (
     UPDATE deliveries d
     SET status = 'sending', attempts = d.attempts + 1, last_attempt_at = now(), updated_at = now()
     FROM seed
     WHERE d.tenant_id = $1::uuid AND d.outbound_message_id = seed.outbound_message_id
       AND d.recipient_domain = seed.recipient_domain AND d.status IN ('queued', 'deferred')
       AND ((d.id = $2::uuid AND d.attempts = $3::int) OR d.next_attempt_at <= now())
     RETURNING d.id, d.recipient, d.attempts, d.expires_at, d.dsn_notify, d.dsn_orcpt, d.dsn_sent
   )
   SELECT (SELECT json_agg(claimed) FROM claimed) AS claimed, seed.recipient_domain,
     m.id::text, m.kind::text, m.mailbox_id::text, m.envelope_from, m.from_domain, m.message_id_header, m.subject,
     m.created_at, m.dsn_ret, m.dsn_envid, b.bytes, b.storage::text, b.storage_key, m.blob_sha256,
     k.id::text AS key_id, k.selector AS key_selector, k.private_key_encrypted AS key_private
   FROM seed
   JOIN outbound_messages m ON m.tenant_id = $1::uuid AND m.id = seed.outbound_message_id
   JOIN message_blobs b ON b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256
   LEFT JOIN LATERAL (
     SELECT k.id, k.selector, k.private_key_encrypted FROM dkim_keys k
     JOIN domains dom ON dom.tenant_id = k.tenant_id AND dom.id = k.domain_id
     WHERE k.tenant_id = m.tenant_id AND k.status = 'active' AND dom.name = m.from_domain AND dom.deleted_at IS NULL
     ORDER BY k.activated_at DESC LIMIT 1
   ) k ON true
   WHERE EXISTS (SELECT 1 FROM claimed)`,
);

/** $1 tenant id, $2 delivery ids, $3 their attempts. See {@link DeliveryRepository.renewClaim}. */
const RENEW_CLAIM = defineStatement<{ id: string }, [string, string[], number[]]>(
  'delivery_renew_claim',
  `UPDATE deliveries d SET last_attempt_at = now(), updated_at = now()
   FROM unnest($2::uuid[], $3::int[]) AS c(id, attempts)
   WHERE d.tenant_id = $1::uuid AND d.id = c.id AND d.status = 'sending' AND d.attempts = c.attempts
   RETURNING d.id::text`,
);

/** The delivery agent's claim (outside the outcome's transaction) and the sweep's reads. */
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Claims, in one statement (one round trip, one transaction), every due delivery of the seed
   * delivery's message and domain (compare-and-set to 'sending', so two workers never send the
   * same one): the seed only if it is still queued or deferred and nothing attempted it since
   * its job was queued (`seedAttempts`), the others when due. With the claim come the message,
   * its bytes and the sending domain's active DKIM key. Null when nothing was claimed.
   */
  async claim(tenantId: string, seedId: string, seedAttempts: number): Promise<ClaimedBatch | null> {
    const rows = await CLAIM.run(this.prisma, [tenantId, seedId, seedAttempts]);
    const r = rows[0];
    if (!r || !r.claimed) return null;
    return {
      domain: r.recipient_domain,
      claimed: r.claimed.map((c) => ({
        id: c.id,
        recipient: c.recipient,
        attempts: c.attempts,
        expiresAt: new Date(c.expires_at),
        dsnNotify: c.dsn_notify,
        dsnOrcpt: c.dsn_orcpt,
        dsnSent: c.dsn_sent,
      })),
      message: {
        tenantId,
        id: r.id,
        kind: r.kind,
        mailboxId: r.mailbox_id,
        envelopeFrom: r.envelope_from,
        fromDomain: r.from_domain,
        messageIdHeader: r.message_id_header,
        subject: r.subject,
        createdAt: r.created_at,
        dsnRet: r.dsn_ret,
        dsnEnvid: r.dsn_envid,
        bytes: Buffer.isBuffer(r.bytes) ? r.bytes : Buffer.from(r.bytes ?? new Uint8Array()),
      },
      dkimKey:
        r.key_id && r.key_selector && r.key_private
          ? { id: r.key_id, selector: r.key_selector, privateKeyEncrypted: r.key_private }
          : null,
      objectBody:
        r.storage === 'db' ? null : { storage: r.storage, key: r.storage_key ?? objectKey(tenantId, r.blob_sha256) },
    };
  }

  /**
   * Confirms a claim before its deliveries are sent, and renews it (last_attempt_at, which the
   * stuck-row sweep reads): returns the ids still this claim's ('sending' after exactly its own
   * attempt), not those the sweep handed back to the queue or to another worker meanwhile.
   */
  async renewClaim(tenantId: string, claimed: { id: string; attempts: number }[]): Promise<string[]> {
    const rows = await RENEW_CLAIM.run(this.prisma, [
      tenantId,
      claimed.map((c) => c.id),
      claimed.map((c) => c.attempts),
    ]);
    return rows.map((r) => r.id);
  }

  /** Hands deliveries stuck in 'sending' for longer than `minutes` back to the queue (all tenants). */
  async releaseStuck(minutes: number): Promise<void> {
    await this.prisma.$executeRaw`
      UPDATE deliveries SET status = 'deferred', next_attempt_at = now(), updated_at = now()
      WHERE status = 'sending' AND last_attempt_at < now() - make_interval(mins => ${minutes})`;
  }

  /** Due deliveries across tenants, the longest waiting first. */
  async findDue(limit: number): Promise<{ tenantId: string; id: string; attempts: number }[]> {
    const rows = await this.prisma.$queryRaw<{ tenant_id: string; id: string; attempts: number }[]>`
      SELECT tenant_id, id, attempts FROM deliveries
      WHERE status IN ('queued', 'deferred') AND next_attempt_at <= now()
      ORDER BY next_attempt_at LIMIT ${limit}`;
    return rows.map((d) => ({ tenantId: d.tenant_id, id: d.id, attempts: d.attempts }));
  }
}
