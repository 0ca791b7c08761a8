import { createHash } from 'node:crypto';
import { blobStore } from './blob-store';
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

/**
 * A message we generated (a DSN to a remote sender) queued for delivery in the caller's
 * transaction: its blob, an outbox row from the null sender, one queued delivery.
 */
export async function queueGeneratedOutbound(
  tx: StoreTx,
  tenantId: string,
  message: { kind: 'dsn'; fromDomain: string; subject: string; bytes: Buffer; to: string },
  expiresAt: Date,
): Promise<string> {
  const sha256 = createHash('sha256').update(message.bytes).digest('hex');
  await blobStore().keep(tx, { tenantId, sha256, bytes: message.bytes });
  const row: OutboundRow = {
    kind: message.kind,
    mailboxId: null,
    envelopeFrom: '',
    fromDomain: message.fromDomain,
    sha256,
    size: message.bytes.length,
    header: { subject: message.subject, messageId: null },
    sourceMessageId: null,
  };
  const queued = await queueOutbound(tx, tenantId, row, [message.to], Math.max(0, expiresAt.getTime() - Date.now()));
  return queued.deliveryIds[0]!;
}
