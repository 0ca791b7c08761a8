import { binary, defineCopyStatement, defineStatement } from '@mailroom/db';
import type { FolderRow } from './folder.repository';
import type {
  ByteRange,
  FetchBlobOptions,
  FetchReadOptions,
  FolderChanges,
  MessageMeta,
  MessageState,
} from './mailbox.types';
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
  const rows = await db.$queryRaw<MetaRow[]>`
    SELECT id::text, uid, flags, modseq, size, received_at, blob_sha256 FROM messages
    WHERE tenant_id = ${tenantId}::uuid AND folder_id = ${folderId}::uuid AND uid = ANY(${uids}::int[])
      AND deleted_at IS NULL
    ORDER BY uid`;
  return rows.map(metaOf);
}

/** The columns of a message's FETCH metadata, as SQL returns them. */
export interface MetaRow {
  id: string;
  uid: number;
  flags: string[];
  modseq: bigint;
  size: number;
  received_at: Date;
  blob_sha256: string;
}

export function metaOf(r: MetaRow): MessageMeta {
  return {
    id: r.id,
    uid: r.uid,
    flags: r.flags,
    modseq: r.modseq,
    size: r.size,
    receivedAt: r.received_at,
    blobSha256: r.blob_sha256,
  };
}

/** A blob's size and where its bytes live (storage, and the object key of an object-stored one); null when there is none. */
export async function blobInfo(db: StoreDb, tenantId: string, sha256: string) {
  const [row] = await BLOB_INFO.run(db, [tenantId, sha256]);
  return row ?? null;
}

const BLOB_INFO = defineStatement<{ size: number; storage: string; storage_key: string | null }, [string, string]>(
  'blob_info',
  `SELECT COALESCE(octet_length(bytes), size) AS size, storage, storage_key FROM message_blobs
   WHERE tenant_id = $1::uuid AND sha256 = $2::text`,
);

/**
 * One slice of a database-stored blob. The column is stored EXTERNAL (uncompressed TOAST), so
 * PostgreSQL reads only the TOAST chunks of the slice, not the whole value. It comes through
 * binary COPY (libs/db binary-copy.ts): the raw bytes, no hex or base64 text on either side.
 */
export async function blobSlice(db: StoreDb, tenantId: string, sha256: string, range: ByteRange): Promise<Buffer> {
  const [row] = await BLOB_SLICE.run(db, [range.start + 1, range.end - range.start, tenantId, sha256]);
  if (row?.chunk === null || row?.chunk === undefined) throw new Error(`blob ${sha256} vanished while it was read`);
  return row.chunk;
}

const BLOB_SLICE = defineCopyStatement<{ chunk: Buffer | null }, [number, number, string, string]>(
  'blob_slice',
  `SELECT substring(bytes FROM $1::int FOR $2::int) AS chunk
   FROM message_blobs WHERE tenant_id = $3::uuid AND sha256 = $4::text`,
  { chunk: binary.bytes },
);

/** A blob as FETCH reads it: see blobsForFetch. */
export interface FetchBlobRow {
  sha256: string;
  size: number;
  storage: string;
  /** The object key of an object-stored blob (null for one stored before keys were recorded, or in the database). */
  storage_key: string | null;
  tree: string | null;
  /** The bytes (see blobSlice); null for a large or externally stored blob. */
  bytes: Buffer | null;
}

/**
 * One statement for a FETCH batch: each blob's size, storage and object key, its cached MIME tree as JSON text
 * (only with `structures`), and its bytes when it is stored in the database, at most `inlineMax`
 * long and needed (`bodies`, or no cached tree to parse). The bytes of larger blobs are left to
 * blobSlice, so they never sit whole in memory; octet_length of the EXTERNAL column reads the
 * TOAST pointer, not the value.
 */
export async function blobsForFetch(
  db: StoreDb,
  tenantId: string,
  sha256s: string[],
  o: FetchBlobOptions,
): Promise<FetchBlobRow[]> {
  if (sha256s.length === 0) return [];
  return BLOBS_FOR_FETCH.run(db, [o.structures, o.inlineMax, o.bodies, tenantId, sha256s]);
}

const BLOBS_FOR_FETCH = defineCopyStatement<FetchBlobRow, [boolean, number, boolean, string, string[]]>(
  'fetch_blobs',
  `SELECT sha256, COALESCE(octet_length(bytes), size) AS size, storage, storage_key,
     CASE WHEN $1::boolean THEN mime_structure::text END AS tree,
     CASE WHEN octet_length(bytes) <= $2::int AND ($3::boolean OR mime_structure IS NULL)
       THEN bytes END AS bytes
   FROM message_blobs WHERE tenant_id = $4::uuid AND sha256 = ANY($5::text[])`,
  {
    sha256: binary.text,
    size: binary.int,
    storage: binary.text,
    storage_key: binary.text,
    tree: binary.text,
    bytes: binary.bytes,
  },
);

/**
 * FETCH metadata of the visible messages among `uids` in uid order, and in the same statement
 * the blob data (as blobsForFetch) of the first rows within `blobRows` and `blobBytes`: a FETCH
 * of a few small messages is one round trip. Rows past the limits have `storage` null.
 */
export async function messagesForFetch(
  db: StoreDb,
  tenantId: string,
  folderId: string,
  uids: number[],
  o: FetchReadOptions,
) {
  if (uids.length === 0) return [];
  return MESSAGES_FOR_FETCH.run(db, [
    o.inlineMax,
    tenantId,
    folderId,
    uids,
    o.structures,
    o.bodies,
    o.blobRows,
    o.blobBytes,
  ]);
}

type MessagesForFetchRow = MetaRow &
  Omit<FetchBlobRow, 'sha256' | 'storage' | 'size'> & { storage: string | null; blob_size: number | null };

// Read through binary COPY (libs/db binary-copy.ts): FETCH is the IMAP hot path, and the bodies come
// as raw bytes, where base64 text cost PostgreSQL the encoding and Node a string and its decoding
// (docs/performance.md). The query is the PL/pgSQL function mailroom_fetch_messages (migration
// 20261203143000, which says what it returns): COPY cannot be prepared, and planning the query
// for each FETCH cost PostgreSQL a third of its time; the function keeps its plan per session.
// storage_key (migration 20261203223000) tells a FETCH of S3 bodies where each one is, with no
// query per body.
const MESSAGES_FOR_FETCH = defineCopyStatement<
  MessagesForFetchRow,
  [number, string, string, number[], boolean, boolean, number, number]
>(
  'fetch_messages',
  `SELECT id, uid, flags, modseq, size, received_at, blob_sha256, blob_size, storage, storage_key, tree, bytes
   FROM mailroom_fetch_messages($1::int, $2::uuid, $3::uuid, $4::int[], $5::boolean, $6::boolean, $7::int, $8::bigint)`,
  {
    id: binary.text,
    uid: binary.int,
    flags: binary.textArray,
    modseq: binary.bigint,
    size: binary.int,
    received_at: binary.date,
    blob_sha256: binary.text,
    blob_size: binary.int,
    storage: binary.text,
    storage_key: binary.text,
    tree: binary.text,
    bytes: binary.bytes,
  },
);

/** Caches the MIME trees of several blobs in one statement (see saveMimeStructure). */
export async function saveMimeStructures(
  db: StoreDb,
  tenantId: string,
  trees: Array<{ sha256: string; tree: unknown }>,
) {
  if (trees.length === 0) return;
  await db.$executeRaw`
    UPDATE message_blobs b SET mime_structure = t.tree
    FROM unnest(${trees.map((t) => t.sha256)}::text[], ${trees.map((t) => JSON.stringify(t.tree))}::jsonb[]) AS t(sha256, tree)
    WHERE b.tenant_id = ${tenantId}::uuid AND b.sha256 = t.sha256`;
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
