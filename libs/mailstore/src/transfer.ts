import { checkTenantQuota } from './copy';
import { FolderNotFound, MailboxUnavailable, QuotaExceeded } from './errors';
import { deleteMessages, lockDeleted, logExpunges } from './expunge.repository';
import { folderRowById } from './folder.repository';
import type { CopyResult } from './mailbox.types';
import { lockMailboxes, mailboxState } from './message.repository';
import type { TenantUsage } from './tenant-usage';
import { insertCopies, lockSources, lockTarget, moveRows } from './transfer.repository';
import type { StoreTx } from './types';

/** Target folder and source rows locked in the one lock order: mailbox, messages, folders. */
async function prepare(tx: StoreTx, tenantId: string, fromFolderId: string, uids: number[], toFolderId: string) {
  const target = await lockTarget(tx, tenantId, toFolderId);
  if (!target) throw new FolderNotFound(tenantId, toFolderId);
  await lockMailboxes(tx, [[tenantId, target.mailbox_id]]);
  const sources = await lockSources(tx, tenantId, target.mailbox_id, fromFolderId, uids);
  return { target, sources };
}

/**
 * COPY (UIDPLUS COPYUID pairs): new rows in the target sharing the blobs, charged to the mailbox
 * by the same conditional update as every writer, and to the tenant's plan limit.
 */
export async function copyIn(
  tx: StoreTx,
  usage: TenantUsage,
  tenantId: string,
  fromFolderId: string,
  uids: number[],
  toFolderId: string,
): Promise<CopyResult> {
  const { target, sources } = await prepare(tx, tenantId, fromFolderId, uids, toFolderId);
  if (sources.length === 0) return { uidValidity: target.uid_validity, pairs: [] };
  const bytes = sources.reduce((sum, s) => sum + s.size, 0);
  const ids = sources.map((s) => s.id);
  const copied = await insertCopies(tx, tenantId, target.mailbox_id, toFolderId, ids, bytes);
  if (!copied) {
    const state = await mailboxState(tx, tenantId, target.mailbox_id, bytes);
    if (state?.status !== 'active') throw new MailboxUnavailable(tenantId, target.mailbox_id, state?.status ?? null);
    throw new QuotaExceeded('mailbox', tenantId, target.mailbox_id);
  }
  await checkTenantQuota(usage, tx, tenantId, bytes);
  return { uidValidity: target.uid_validity, pairs: sources.map((s, i) => [s.uid, copied.firstUid + i]) };
}

/** MOVE (RFC 6851): the rows move in place to new uids of the target; the source logs expunges. */
export async function moveIn(
  tx: StoreTx,
  tenantId: string,
  fromFolderId: string,
  uids: number[],
  toFolderId: string,
): Promise<CopyResult> {
  const { target, sources } = await prepare(tx, tenantId, fromFolderId, uids, toFolderId);
  if (sources.length === 0) return { uidValidity: target.uid_validity, pairs: [] };
  const moved = await moveRows(
    tx,
    tenantId,
    target.mailbox_id,
    toFolderId,
    sources.map((s) => s.id),
  );
  await logExpunges(
    tx,
    tenantId,
    sources.map((s) => [fromFolderId, s.uid]),
  );
  return { uidValidity: target.uid_validity, pairs: sources.map((s, i) => [s.uid, moved.firstUid + i]) };
}

/** EXPUNGE / UID EXPUNGE: the messages flagged \Deleted (among `uids`), removed; their uids. */
export async function expungeIn(tx: StoreTx, tenantId: string, folderId: string, uids: number[] | null) {
  const folder = await folderRowById(tx, tenantId, folderId);
  if (!folder) throw new FolderNotFound(tenantId, folderId);
  await lockMailboxes(tx, [[tenantId, folder.mailbox_id]]);
  const removed = await deleteMessages(tx, tenantId, await lockDeleted(tx, tenantId, folderId, uids));
  return removed.map((r) => r.uid).sort((a, b) => a - b);
}
