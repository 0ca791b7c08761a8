import type { FolderRow } from './folder.repository';
import type { ByteRange, FolderChanges, MessageMeta, MessageState } from './mailbox.types';
import type { StoreDb } from './types';

/** The visible messages of a folder in uid order, as one JSON value (one round trip, compact). */
export async function folderMessageStates(db: StoreDb, tenantId: string, folderId: string) {
  const [row] = await db.$queryRaw<Array<FolderRow & { states: string }>>`
    SELECT COALESCE((
      SELECT json_agg(json_build_array(m.uid, m.flags, m.modseq::text) ORDER BY m.uid)
      FROM messages m
      WHERE m.tenant_id = f.tenant_id AND m.folder_id = f.id AND m.deleted_at IS NULL), '[]')::text AS states,
      f.id::text, f.mailbox_id::text, f.name, f.kind, f.uid_validity, f.uid_next, f.highest_modseq, f.subscribed
    FROM folders f
    WHERE f.tenant_id = ${tenantId}::uuid AND f.id = ${folderId}::uuid AND f.deleted_at IS NULL`;
  return row ?? null;
}

/** Parses the JSON array of [uid, flags, modseq] folderMessageStates returns. */
export function parseStates(json: string): MessageState[] {
  const rows = JSON.parse(json) as Array<[number, string[], string]>;
  return rows.map(([uid, flags, modseq]) => ({ uid, flags, modseq: BigInt(modseq) }));
}

/**
 * Messages changed (or added) after `since` and uids expunged after it, with the folder's
 * highest modseq, in one statement so the three agree. Null when the folder is gone.
 */
export async function changesAfter(
  db: StoreDb,
  tenantId: string,
  folderId: string,
  since: bigint,
): Promise<FolderChanges | null> {
  const [row] = await db.$queryRaw<{ highest: bigint; floor: bigint; changed: string; expunged: number[] }[]>`
    SELECT f.highest_modseq AS highest, f.expunge_floor AS floor,
      COALESCE((SELECT json_agg(json_build_array(m.uid, m.flags, m.modseq::text) ORDER BY m.uid)
        FROM messages m
        WHERE m.tenant_id = f.tenant_id AND m.folder_id = f.id AND m.modseq > ${since} AND m.deleted_at IS NULL),
        '[]')::text AS changed,
      ARRAY(SELECT e.uid FROM message_expunges e
        WHERE e.tenant_id = f.tenant_id AND e.folder_id = f.id AND e.modseq > ${since} ORDER BY e.uid) AS expunged
    FROM folders f
    WHERE f.tenant_id = ${tenantId}::uuid AND f.id = ${folderId}::uuid AND f.deleted_at IS NULL`;
  if (!row) return null;
  return {
    highestModseq: row.highest,
    changed: parseStates(row.changed),
    expunged: row.expunged,
    complete: since >= row.floor,
  };
}

/** FETCH metadata of the visible messages among `uids`, in uid order. */
export async function messageMetas(
  db: StoreDb,
  tenantId: string,
  folderId: string,
  uids: number[],
): Promise<MessageMeta[]> {
  if (uids.length === 0) return [];
  const rows = await db.$queryRaw<
    { id: string; uid: number; flags: string[]; modseq: bigint; size: number; received_at: Date; blob_sha256: string }[]
  >`
    SELECT id::text, uid, flags, modseq, size, received_at, blob_sha256 FROM messages
    WHERE tenant_id = ${tenantId}::uuid AND folder_id = ${folderId}::uuid AND uid = ANY(${uids}::int[])
      AND deleted_at IS NULL
    ORDER BY uid`;
  return rows.map((r) => ({
    id: r.id,
    uid: r.uid,
    flags: r.flags,
    modseq: r.modseq,
    size: r.size,
    receivedAt: r.received_at,
    blobSha256: r.blob_sha256,
  }));
}

/** A blob's size and where its bytes live; null when there is none. */
export async function blobInfo(db: StoreDb, tenantId: string, sha256: string) {
  const [row] = await db.$queryRaw<{ size: number; storage: string }[]>`
    SELECT COALESCE(octet_length(bytes), size) AS size, storage FROM message_blobs
    WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256}`;
  return row ?? null;
}

/**
 * One slice of a database-stored blob. The column is stored EXTERNAL (uncompressed TOAST), so
 * PostgreSQL reads only the TOAST chunks of the slice, not the whole value.
 */
export async function blobSlice(db: StoreDb, tenantId: string, sha256: string, range: ByteRange): Promise<Buffer> {
  const [row] = await db.$queryRaw<{ chunk: Uint8Array | null }[]>`
    SELECT substring(bytes FROM ${range.start + 1}::int FOR ${range.end - range.start}::int) AS chunk
    FROM message_blobs WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256}`;
  if (!row?.chunk) throw new Error(`blob ${sha256} vanished while it was read`);
  return Buffer.from(row.chunk.buffer, row.chunk.byteOffset, row.chunk.byteLength);
}

/** The cached MIME tree of a blob, or null when none was stored yet. */
export async function blobMimeStructure(db: StoreDb, tenantId: string, sha256: string): Promise<unknown> {
  const [row] = await db.$queryRaw<{ tree: string | null }[]>`
    SELECT mime_structure::text AS tree FROM message_blobs WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256}`;
  return row?.tree ? (JSON.parse(row.tree) as unknown) : null;
}

/** Stores the MIME tree of a blob (the content never changes, so the last writer is as right as any). */
export async function saveMimeStructure(db: StoreDb, tenantId: string, sha256: string, tree: unknown) {
  await db.$executeRaw`
    UPDATE message_blobs SET mime_structure = ${JSON.stringify(tree)}::jsonb
    WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256}`;
}
