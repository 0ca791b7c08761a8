import { FolderExists, FolderHasChildren, FolderNotFound, FolderProtected, InvalidFolderName } from './errors';
import { deleteMessages, folderMessageIds, logExpunges } from './expunge.repository';
import { normaliseFolderName, parentNames } from './folder-name';
import {
  dropFolder,
  folderHoldsRows,
  folderInfo,
  folderRowByName,
  hasChildren,
  hideFolder,
  insertFolders,
  notifyFolder,
  renameFolderTree,
} from './folder.repository';
import type { FolderInfo } from './mailbox.types';
import { lockMailboxes } from './message.repository';
import { moveRows } from './transfer.repository';
import type { StoreTx } from './types';

// CREATE, RENAME and DELETE hold the mailbox row (the first lock of every writer) for their
// whole transaction: folder changes of one mailbox run one at a time, and message rows are
// still locked before folder rows, as STORE and EXPUNGE take them.

/** CREATE: the folder and any missing superiors (RFC 3501 6.3.3 SHOULD). */
export async function createFolderIn(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  name: string,
): Promise<FolderInfo> {
  const n = normaliseFolderName(name);
  await lockMailboxes(tx, [[tenantId, mailboxId]]);
  if (await folderRowByName(tx, tenantId, mailboxId, n)) throw new FolderExists(tenantId, n);
  await insertFolders(tx, tenantId, mailboxId, [...parentNames(n), n]);
  const row = await folderRowByName(tx, tenantId, mailboxId, n);
  if (!row) throw new FolderNotFound(tenantId, n);
  return folderInfo(row);
}

/**
 * RENAME: the folder and its inferiors take the new name. INBOX is special (RFC 3501 6.3.5): its
 * messages move to a new folder of the new name and INBOX stays, empty, with its inferiors.
 */
export async function renameFolderIn(tx: StoreTx, tenantId: string, mailboxId: string, from: string, to: string) {
  const source = normaliseFolderName(from);
  const target = normaliseFolderName(to);
  await lockMailboxes(tx, [[tenantId, mailboxId]]);
  const row = await folderRowByName(tx, tenantId, mailboxId, source);
  if (!row) throw new FolderNotFound(tenantId, source);
  if (target === 'INBOX' || (await folderRowByName(tx, tenantId, mailboxId, target))) {
    throw new FolderExists(tenantId, target);
  }
  if (target.startsWith(`${row.name}/`)) throw new InvalidFolderName(to, 'a folder cannot move under itself');
  if (row.kind === 'inbox') {
    await moveInboxTo(tx, tenantId, mailboxId, row.id, target);
    return;
  }
  await insertFolders(tx, tenantId, mailboxId, parentNames(target));
  if (!(await renameFolderTree(tx, tenantId, mailboxId, row.name, target))) throw new FolderExists(tenantId, target);
  await notifyFolder(tx, tenantId, row.id);
}

async function moveInboxTo(tx: StoreTx, tenantId: string, mailboxId: string, inboxId: string, target: string) {
  await insertFolders(tx, tenantId, mailboxId, [...parentNames(target), target]);
  const created = await folderRowByName(tx, tenantId, mailboxId, target);
  if (!created) throw new FolderNotFound(tenantId, target);
  const rows = await tx.$queryRaw<{ id: string; uid: number }[]>`
    SELECT id::text, uid FROM messages WHERE tenant_id = ${tenantId}::uuid AND folder_id = ${inboxId}::uuid
    ORDER BY uid FOR UPDATE`;
  if (rows.length === 0) return;
  await moveRows(
    tx,
    tenantId,
    mailboxId,
    created.id,
    rows.map((r) => r.id),
  );
  await logExpunges(
    tx,
    tenantId,
    rows.map((r) => [inboxId, r.uid]),
  );
}

/**
 * DELETE: INBOX and special-use folders are refused, as is a folder with inferiors. Its messages
 * go through the one removal path (usage, expunge log, notification). In a mailbox on legal hold
 * they are hidden instead, and the folder is hidden with them rather than dropped.
 */
export async function deleteFolderIn(tx: StoreTx, tenantId: string, mailboxId: string, name: string) {
  const n = normaliseFolderName(name);
  await lockMailboxes(tx, [[tenantId, mailboxId]]);
  const row = await folderRowByName(tx, tenantId, mailboxId, n);
  if (!row) throw new FolderNotFound(tenantId, n);
  if (row.kind !== 'custom') throw new FolderProtected(tenantId, row.name);
  if (await hasChildren(tx, tenantId, mailboxId, row.name)) throw new FolderHasChildren(tenantId, row.name);
  await deleteMessages(tx, tenantId, await folderMessageIds(tx, tenantId, row.id));
  await notifyFolder(tx, tenantId, row.id);
  if (await folderHoldsRows(tx, tenantId, row.id)) await hideFolder(tx, tenantId, row.id);
  else await dropFolder(tx, tenantId, row.id);
}
