import { createHash } from 'node:crypto';
import type { PrismaClient } from '@mailroom/db';

/**
 * What submission commits for a message a user sent, without going through SMTP: the blob, the
 * outbound message and one queued delivery per recipient. Returns the delivery ids in order.
 */
export async function queueOutboundRows(
  prisma: PrismaClient,
  input: { tenantId: string; raw: Buffer; envelopeFrom: string; recipients: string[] },
): Promise<string[]> {
  const { tenantId, raw, envelopeFrom } = input;
  const sha256 = createHash('sha256').update(raw).digest('hex');
  await prisma.messageBlob.upsert({
    where: { tenantId_sha256: { tenantId, sha256 } },
    create: { tenantId, sha256, size: raw.length, bytes: new Uint8Array(raw) },
    update: {},
  });
  const message = await prisma.outboundMessage.create({
    data: {
      tenantId,
      kind: 'submission',
      envelopeFrom,
      fromDomain: envelopeFrom.slice(envelopeFrom.lastIndexOf('@') + 1),
      blobSha256: sha256,
      size: raw.length,
    },
  });
  const ids: string[] = [];
  for (const recipient of input.recipients) {
    const delivery = await prisma.delivery.create({
      data: {
        tenantId,
        outboundMessageId: message.id,
        recipient,
        recipientDomain: recipient.slice(recipient.lastIndexOf('@') + 1),
        expiresAt: new Date(Date.now() + 86_400_000),
      },
    });
    ids.push(delivery.id);
  }
  return ids;
}
