import type { PrismaClient } from '@mailroom/db';
import { MailStore } from '@mailroom/mailstore';
import type { Pop3Store } from '@mailroom/imap/pop3';

/**
 * TEMPORARY: the contracts §2 read API over Prisma, until the store branch is merged; then the
 * tests use MailStore itself and this file goes.
 */
export function interimStore(prisma: PrismaClient): Pop3Store {
  const store = new MailStore(prisma);
  return {
    listFolders: (tenantId, mailboxId) =>
      prisma.folder.findMany({ where: { tenantId, mailboxId }, select: { id: true, kind: true, name: true } }),
    snapshot: async (tenantId, folderId) => ({
      messages: await prisma.message.findMany({
        where: { tenantId, folderId, deletedAt: null },
        orderBy: { uid: 'asc' },
        select: { uid: true },
      }),
    }),
    messages: (tenantId, folderId, uids) =>
      prisma.message.findMany({
        where: { tenantId, folderId, uid: { in: uids } },
        select: { id: true, uid: true, flags: true, size: true, receivedAt: true, blobSha256: true },
      }),
    readBlob: (tenantId, sha256) =>
      (async function* () {
        const blob = await prisma.messageBlob.findUniqueOrThrow({ where: { tenantId_sha256: { tenantId, sha256 } } });
        const bytes = Buffer.from(blob.bytes!);
        for (let i = 0; i < bytes.length; i += 4096) yield bytes.subarray(i, i + 4096);
      })(),
    setFlags: (tenantId, folderId, uids, op, flags) => store.setFlags(tenantId, folderId, uids, op, flags),
    expunge: async (tenantId, folderId, uids) => {
      const rows = await prisma.message.findMany({
        where: { tenantId, folderId, uid: { in: uids }, flags: { has: '\\Deleted' } },
      });
      await store.transaction((tx) =>
        store.remove(
          tx,
          tenantId,
          rows.map((r) => r.id),
        ),
      );
      return rows.map((r) => r.uid);
    },
    move: async (tenantId, fromFolderId, uids, toFolderId) => {
      for (const uid of uids) {
        const folder = await prisma.folder.update({
          where: { tenantId_id: { tenantId, id: toFolderId } },
          data: { uidNext: { increment: 1 } },
        });
        await prisma.message.update({
          where: { tenantId_folderId_uid: { tenantId, folderId: fromFolderId, uid } },
          data: { folderId: toFolderId, uid: folder.uidNext - 1 },
        });
      }
      return null;
    },
  };
}
