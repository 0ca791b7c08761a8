import type { DeliveryStatus, PrismaClient } from '@mailroom/db';
import type { Claimed, OutboundForDelivery } from './delivery.types';

export interface SeedDelivery {
  tenantId: string;
  id: string;
  status: DeliveryStatus;
  outboundMessageId: string;
  recipientDomain: string;
}

export interface ActiveDkimKey {
  id: string;
  selector: string;
  privateKeyEncrypted: string;
}

interface ClaimedSqlRow {
  id: string;
  recipient: string;
  attempts: number;
  expires_at: Date;
  dsn_notify: string[];
  dsn_orcpt: string | null;
  dsn_sent: boolean;
}

/** The delivery agent's reads and claims (outside the outcome's transaction). */
export class DeliveryRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async findDelivery(tenantId: string, id: string): Promise<SeedDelivery | null> {
    return this.prisma.delivery.findUnique({
      where: { tenantId_id: { tenantId, id } },
      select: { tenantId: true, id: true, status: true, outboundMessageId: true, recipientDomain: true },
    });
  }

  /**
   * Claims every due delivery of one message and domain (compare-and-set to 'sending', so two
   * workers never send the same one): the seed only if nothing attempted it since its job was
   * queued (`seedAttempts`), the others when due.
   */
  async claimBatch(
    tenantId: string,
    outboundMessageId: string,
    domain: string,
    seed: { id: string; attempts: number },
  ): Promise<Claimed[]> {
    const rows = await this.prisma.$queryRaw<ClaimedSqlRow[]>`
      UPDATE deliveries SET status = 'sending', attempts = attempts + 1, last_attempt_at = now(), updated_at = now()
      WHERE tenant_id = ${tenantId}::uuid AND outbound_message_id = ${outboundMessageId}::uuid
        AND recipient_domain = ${domain} AND status IN ('queued', 'deferred')
        AND ((id = ${seed.id}::uuid AND attempts = ${seed.attempts}) OR next_attempt_at <= now())
      RETURNING id, recipient, attempts, expires_at, dsn_notify, dsn_orcpt, dsn_sent`;
    return rows.map((r) => ({
      id: r.id,
      recipient: r.recipient,
      attempts: r.attempts,
      expiresAt: r.expires_at,
      dsnNotify: r.dsn_notify,
      dsnOrcpt: r.dsn_orcpt,
      dsnSent: r.dsn_sent,
    }));
  }

  async findOutbound(tenantId: string, id: string): Promise<OutboundForDelivery> {
    const m = await this.prisma.outboundMessage.findUniqueOrThrow({
      where: { tenantId_id: { tenantId, id } },
      include: { blob: { select: { bytes: true } } },
    });
    return {
      tenantId: m.tenantId,
      id: m.id,
      kind: m.kind,
      mailboxId: m.mailboxId,
      envelopeFrom: m.envelopeFrom,
      fromDomain: m.fromDomain,
      messageIdHeader: m.messageIdHeader,
      subject: m.subject,
      createdAt: m.createdAt,
      dsnRet: m.dsnRet,
      dsnEnvid: m.dsnEnvid,
      bytes: Buffer.from(m.blob.bytes ?? new Uint8Array()),
    };
  }

  /** The newest active DKIM key of a live domain of the tenant, by the domain's name. */
  async findActiveDkimKey(tenantId: string, domainName: string): Promise<ActiveDkimKey | null> {
    return this.prisma.dkimKey.findFirst({
      where: { tenantId, status: 'active', domain: { name: domainName, deletedAt: null } },
      orderBy: { activatedAt: 'desc' },
      select: { id: true, selector: true, privateKeyEncrypted: true },
    });
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
