import { Prisma, type FolderKind } from '@mailroom/db';
import { notifyExpression } from './notify';
import type { FolderCounts, FolderInfo } from './mailbox.types';
import type { StoreDb, StoreTx } from './types';

export interface FolderRow {
  id: string;
  mailbox_id: string;
  name: string;
  kind: FolderKind;
  uid_validity: number;
  uid_next: number;
  highest_modseq: bigint;
  subscribed: boolean;
}

/** A folder row as FolderInfo. */
export function folderInfo(r: FolderRow): FolderInfo {
  return {
    id: r.id,
    name: r.name,
    kind: r.kind,
    uidValidity: r.uid_validity,
    uidNext: r.uid_next,
    highestModseq: r.highest_modseq,
    subscribed: r.subscribed,
  };
}

/** The visible (not hidden) folders of a mailbox, by name. */
export async function folderRows(db: StoreDb, tenantId: string, mailboxId: string): Promise<FolderRow[]> {
  return db.$queryRaw<FolderRow[]>`
    SELECT id::text, mailbox_id::text, name, kind, uid_validity, uid_next, highest_modseq, subscribed
    FROM folders
    WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid AND deleted_at IS NULL
    ORDER BY name`;
}

/** One visible folder by its normalised name; INBOX is the mailbox's inbox kind whatever it is called. */
export async function folderRowByName(
  db: StoreDb,
  tenantId: string,
  mailboxId: string,
  name: string,
): Promise<FolderRow | null> {
  const inbox = name === 'INBOX';
  const rows = await db.$queryRaw<FolderRow[]>`
    SELECT id::text, mailbox_id::text, name, kind, uid_validity, uid_next, highest_modseq, subscribed
    FROM folders
    WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid AND deleted_at IS NULL
      AND (CASE WHEN ${inbox} THEN kind = 'inbox' ELSE name = ${name} END)
    ORDER BY created_at LIMIT 1`;
  return rows[0] ?? null;
}

/** One visible folder by id. */
export async function folderRowById(db: StoreDb, tenantId: string, folderId: string): Promise<FolderRow | null> {
  const [row] = await db.$queryRaw<FolderRow[]>`
    SELECT id::text, mailbox_id::text, name, kind, uid_validity, uid_next, highest_modseq, subscribed
    FROM folders WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid AND deleted_at IS NULL`;
  return row ?? null;
}

/** A visible folder's highest modseq alone (one primary-key read); null when the folder is gone. */
export async function folderHighestModseq(db: StoreDb, tenantId: string, folderId: string): Promise<bigint | null> {
  const [row] = await db.$queryRaw<{ highest: bigint }[]>`
    SELECT highest_modseq AS highest FROM folders
    WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid AND deleted_at IS NULL`;
  return row?.highest ?? null;
}

/**
 * Inserts the names that do not exist yet (custom kind). UIDVALIDITY is the creation time, as
 * Dovecot does: a folder deleted and created again under the same name must not reuse the old
 * one's (RFC 3501 2.3.1.1), or clients would trust cached uids of other messages.
 */
export async function insertFolders(tx: StoreTx, tenantId: string, mailboxId: string, names: string[]) {
  return tx.$executeRaw`
    INSERT INTO folders (tenant_id, mailbox_id, name, kind, uid_validity)
    SELECT ${tenantId}::uuid, ${mailboxId}::uuid, n, 'custom', extract(epoch FROM now())::int
    FROM unnest(${names}::text[]) AS n
    ON CONFLICT (tenant_id, mailbox_id, name) DO NOTHING`;
}

/**
 * Renames a folder and its inferiors in one statement. False when a target name is taken (the
 * statement then changes nothing).
 */
export async function renameFolderTree(tx: StoreTx, tenantId: string, mailboxId: string, from: string, to: string) {
  const prefix = `${from}/`;
  const [row] = await tx.$queryRaw<{ clash: boolean }[]>`
    SELECT EXISTS (
      SELECT 1 FROM folders f
      WHERE f.tenant_id = ${tenantId}::uuid AND f.mailbox_id = ${mailboxId}::uuid
        AND f.name IN (
          SELECT ${to} || substr(s.name, ${from.length + 1}) FROM folders s
          WHERE s.tenant_id = ${tenantId}::uuid AND s.mailbox_id = ${mailboxId}::uuid
            AND (s.name = ${from} OR left(s.name, ${prefix.length}) = ${prefix}))) AS clash`;
  if (row?.clash) return false;
  await tx.$executeRaw`
    UPDATE folders SET name = ${to} || substr(name, ${from.length + 1})
    WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid
      AND (name = ${from} OR left(name, ${prefix.length}) = ${prefix})`;
  return true;
}

/** Whether a folder has inferiors (visible ones). */
export async function hasChildren(db: StoreDb, tenantId: string, mailboxId: string, name: string) {
  const prefix = `${name}/`;
  const [row] = await db.$queryRaw<{ yes: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM folders WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid
      AND deleted_at IS NULL AND left(name, ${prefix.length}) = ${prefix}) AS yes`;
  return row?.yes ?? false;
}

/**
 * Hides a folder deleted while its mailbox is on legal hold: its hidden messages keep a folder
 * to belong to. The name is freed with a prefix no valid IMAP name has (control character).
 */
export async function hideFolder(tx: StoreTx, tenantId: string, folderId: string) {
  await tx.$executeRaw`
    UPDATE folders SET deleted_at = now(), subscribed = false, name = E'\\x01deleted/' || id::text || '/' || name
    WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid`;
}

export async function dropFolder(tx: StoreTx, tenantId: string, folderId: string) {
  await tx.$executeRaw`DELETE FROM folders WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid`;
}

/** Sets the subscription of a visible folder; false when there is none of that name. */
export async function updateSubscribed(tx: StoreDb, tenantId: string, folderId: string, subscribed: boolean) {
  await tx.$executeRaw`
    UPDATE folders SET subscribed = ${subscribed} WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid`;
}

/** STATUS/SELECT counts in one statement; null when the folder is gone. Hidden messages are left out. */
export async function countFolder(db: StoreDb, tenantId: string, folderId: string): Promise<FolderCounts | null> {
  const [r] = await db.$queryRaw<
    Array<FolderRow & { messages: number; unseen: number; deleted: number; size_bytes: bigint }>
  >`
    SELECT f.uid_validity, f.uid_next, f.highest_modseq, c.messages, c.unseen, c.deleted, c.size_bytes
    FROM folders f CROSS JOIN LATERAL (
      SELECT count(*)::int AS messages,
        (count(*) FILTER (WHERE NOT ('\\Seen' = ANY(m.flags))))::int AS unseen,
        (count(*) FILTER (WHERE '\\Deleted' = ANY(m.flags)))::int AS deleted,
        COALESCE(sum(m.size), 0)::bigint AS size_bytes
      FROM messages m
      WHERE m.tenant_id = f.tenant_id AND m.folder_id = f.id AND m.deleted_at IS NULL) c
    WHERE f.tenant_id = ${tenantId}::uuid AND f.id = ${folderId}::uuid AND f.deleted_at IS NULL`;
  if (!r) return null;
  return {
    messages: r.messages,
    unseen: r.unseen,
    deleted: r.deleted,
    sizeBytes: r.size_bytes,
    uidNext: r.uid_next,
    uidValidity: r.uid_validity,
    highestModseq: r.highest_modseq,
  };
}

/** Whether a folder still holds rows (hidden ones, kept for a legal hold). */
export async function folderHoldsRows(tx: StoreTx, tenantId: string, folderId: string) {
  const [row] = await tx.$queryRaw<{ yes: boolean }[]>`
    SELECT EXISTS (SELECT 1 FROM messages WHERE tenant_id = ${tenantId}::uuid AND folder_id = ${folderId}::uuid) AS yes`;
  return row?.yes ?? false;
}

/** Tells listeners a folder changed without a message change (deleted, renamed). */
export async function notifyFolder(tx: StoreTx, tenantId: string, folderId: string) {
  const notify = notifyExpression(
    Prisma.sql`tenant_id`,
    Prisma.sql`mailbox_id`,
    Prisma.sql`id`,
    Prisma.sql`highest_modseq`,
  );
  await tx.$queryRaw`SELECT ${notify} AS notified FROM folders WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid`;
}
