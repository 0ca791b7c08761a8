import { createHash } from 'node:crypto';
import { storeBlob, type FolderKind, type Prisma } from '@mailroom/db';

/**
 * Stores a message we generated (a DSN) in one of a mailbox's folders, in the caller's
 * transaction: the blob once by content hash, the next UID of the folder, a message row, and the
 * mailbox's usage. Returns false when the mailbox or folder no longer exists.
 */
export async function storeGeneratedMessage(
  tx: Prisma.TransactionClient,
  target: { tenantId: string; mailboxId: string; folderKind: FolderKind },
  raw: Buffer,
  summary: {
    envelopeFrom: string;
    envelopeTo: string;
    subject: string | null;
    fromAddress: string;
    messageId: string | null;
  },
): Promise<boolean> {
  const folder = await tx.folder.findFirst({
    where: { tenantId: target.tenantId, mailboxId: target.mailboxId, kind: target.folderKind },
    orderBy: { createdAt: 'asc' },
  });
  if (!folder) return false;
  const sha256 = createHash('sha256').update(raw).digest('hex');
  await storeBlob(tx, { tenantId: target.tenantId, sha256, bytes: raw });
  const [uid] = await tx.$queryRaw<{ uid: number }[]>`
    UPDATE folders SET uid_next = uid_next + 1
    WHERE tenant_id = ${target.tenantId}::uuid AND id = ${folder.id}::uuid
    RETURNING uid_next - 1 AS uid`;
  await tx.message.create({
    data: {
      tenantId: target.tenantId,
      mailboxId: target.mailboxId,
      folderId: folder.id,
      blobSha256: sha256,
      uid: uid!.uid,
      size: raw.length,
      envelopeFrom: summary.envelopeFrom,
      envelopeTo: summary.envelopeTo,
      subject: summary.subject,
      fromAddress: summary.fromAddress,
      messageIdHeader: summary.messageId,
      parseStatus: 'pending',
    },
  });
  await tx.mailbox.update({
    where: { tenantId_id: { tenantId: target.tenantId, id: target.mailboxId } },
    data: { usedBytes: { increment: raw.length }, messageCount: { increment: 1 } },
  });
  return true;
}
