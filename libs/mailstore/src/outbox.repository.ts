import type { OutboundRecipient, OutboundRow, StoreTx } from './types';

/**
 * An outbox row and one queued delivery per recipient, with the sender's DSN request (RFC 3461)
 * kept for the worker's reports. The worker's sweeper sends them; the caller enqueues the ids
 * after commit.
 */
export async function queueOutbound(
  tx: StoreTx,
  tenantId: string,
  row: OutboundRow,
  recipients: OutboundRecipient[],
  lifetimeMs: number,
): Promise<{ id: string; deliveryIds: string[] }> {
  const outbound = await tx.outboundMessage.create({
    data: {
      tenantId,
      kind: row.kind,
      mailboxId: row.mailboxId,
      envelopeFrom: row.envelopeFrom,
      fromDomain: row.fromDomain,
      messageIdHeader: row.header.messageId,
      subject: row.header.subject,
      blobSha256: row.sha256,
      size: row.size,
      sourceMessageId: row.sourceMessageId,
      dsnRet: row.dsn?.ret ?? null,
      dsnEnvid: row.dsn?.envid ?? null,
    },
    select: { id: true },
  });
  const expiresAt = new Date(Date.now() + lifetimeMs);
  const deliveries = await tx.delivery.createManyAndReturn({
    data: recipients.map((r) => {
      const recipient = typeof r === 'string' ? r : r.address;
      return {
        tenantId,
        outboundMessageId: outbound.id,
        recipient,
        recipientDomain: recipient.slice(recipient.lastIndexOf('@') + 1).toLowerCase(),
        status: 'queued' as const,
        expiresAt,
        dsnNotify: typeof r === 'string' ? [] : r.notify,
        dsnOrcpt: typeof r === 'string' ? null : r.orcpt,
      };
    }),
    select: { id: true },
  });
  await tx.deliveryEvent.createMany({
    data: deliveries.map((d) => ({ tenantId, deliveryId: d.id, type: 'queued' as const })),
  });
  return { id: outbound.id, deliveryIds: deliveries.map((d) => d.id) };
}
