import { createHash } from 'node:crypto';
import type { PrismaClient } from '@mailroom/db';
import type { RcptDsn } from '@mailroom/smtp';
import { insertBlob, queueOutbound, type HeaderSummary } from './message-store';

export interface RelayedBounce {
  tenantId: string;
  /** The hosted domain the forward left from: the relayed bounce is signed with its key. */
  fromDomain: string;
  /** The original sender, recovered from the SRS address. */
  to: string;
  dsn: RcptDsn | null;
}

// A 50 MB insert over a slow link takes a while; the default of 5 s would abort it.
const TX_TIMEOUT_MS = 120_000;

/**
 * Bounces to SRS addresses, queued to the original senders of the forwards they answer: one
 * outbound 'forward' message per tenant and domain, with the null sender (a bounce is never
 * answered by another bounce, RFC 5321 §4.5.5), in one transaction.
 */
export class BounceRelayRepository {
  constructor(private readonly prisma: PrismaClient) {}

  async queue(
    bytes: Buffer,
    header: HeaderSummary,
    dsn: { ret: string | null; envid: string | null },
    bounces: RelayedBounce[],
  ): Promise<Array<{ tenantId: string; deliveryId: string }>> {
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    const groups = new Map<string, RelayedBounce[]>();
    for (const b of bounces) {
      groups.set(`${b.tenantId} ${b.fromDomain}`, [...(groups.get(`${b.tenantId} ${b.fromDomain}`) ?? []), b]);
    }
    return this.prisma.$transaction(
      async (tx) => {
        const deliveries: Array<{ tenantId: string; deliveryId: string }> = [];
        for (const group of groups.values()) {
          const { tenantId, fromDomain } = group[0]!;
          await insertBlob(tx, tenantId, sha256, bytes);
          const row = {
            kind: 'forward' as const,
            mailboxId: null,
            envelopeFrom: '',
            fromDomain,
            sha256,
            size: bytes.length,
            header,
            sourceMessageId: null,
            dsnRet: dsn.ret,
            dsnEnvid: dsn.envid,
          };
          const recipients = group.map((b) => ({
            address: b.to,
            dsnNotify: b.dsn?.notify ?? [],
            dsnOrcpt: b.dsn?.orcpt ?? null,
          }));
          const queued = await queueOutbound(tx, tenantId, row, recipients);
          deliveries.push(...queued.deliveryIds.map((deliveryId) => ({ tenantId, deliveryId })));
        }
        return deliveries;
      },
      { timeout: TX_TIMEOUT_MS, maxWait: 10_000 },
    );
  }
}
