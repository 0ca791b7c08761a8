import type { BlobKey } from './blob.repository';
import type { StoreDb, StoreTx } from './types';

/**
 * The row of a blob whose bytes go to the object store, inserted (storage 's3', bytes NULL) or,
 * when the tenant has it already, locked FOR KEY SHARE as storeBlob locks a re-used blob, so
 * blob GC (FOR UPDATE SKIP LOCKED) passes it by until this transaction ends. Returns where the
 * held row keeps its bytes: 's3' means the caller must put the object before it commits; 'db'
 * (a blob stored before the move to S3) means the bytes are already there.
 */
export async function holdObjectBlob(
  tx: StoreTx,
  blob: { tenantId: string; sha256: string; size: number; key: string },
): Promise<'db' | 's3'> {
  for (let attempt = 0; attempt < 3; attempt++) {
    // As storeBlob: the sub-select uses the statement's snapshot, so it does not see a row the
    // INSERT just wrote; neither one means GC deleted the row in between: try again.
    const [row] = await tx.$queryRaw<{ inserted: string | null; held: string | null }[]>`
      WITH ins AS (
        INSERT INTO message_blobs (tenant_id, sha256, size, storage, storage_key, bytes)
        VALUES (${blob.tenantId}::uuid, ${blob.sha256}, ${blob.size}, 's3', ${blob.key}, NULL)
        ON CONFLICT (tenant_id, sha256) DO NOTHING
        RETURNING storage
      )
      SELECT (SELECT storage FROM ins) AS inserted,
             (SELECT storage FROM message_blobs
                WHERE tenant_id = ${blob.tenantId}::uuid AND sha256 = ${blob.sha256}
                FOR KEY SHARE) AS held`;
    const storage = row?.inserted ?? row?.held;
    if (storage === 'db' || storage === 's3') return storage;
  }
  throw new Error(`could not keep blob ${blob.sha256}: it was deleted three times in a row`);
}

/** Migration to S3: the next `limit` database-stored blobs, locked (FOR NO KEY UPDATE SKIP LOCKED) until commit. */
export async function claimDatabaseBlobs(tx: StoreTx, limit: number) {
  const rows = await tx.$queryRaw<{ tenant_id: string; sha256: string; size: number }[]>`
    SELECT tenant_id::text, sha256, size FROM message_blobs
    WHERE storage = 'db' AND bytes IS NOT NULL
    ORDER BY created_at, tenant_id, sha256
    LIMIT ${limit}
    FOR NO KEY UPDATE SKIP LOCKED`;
  return rows.map((r) => ({ tenantId: r.tenant_id, sha256: r.sha256, size: r.size }));
}

/** One database-stored blob's bytes (the migration reads one at a time). */
export async function databaseBlobBytes(tx: StoreTx, tenantId: string, sha256: string): Promise<Buffer | null> {
  const [row] = await tx.$queryRaw<{ bytes: Uint8Array | null }[]>`
    SELECT bytes FROM message_blobs WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256} AND storage = 'db'`;
  return row?.bytes ? Buffer.from(row.bytes) : null;
}

/**
 * Migration to S3, after the object is acknowledged: the row points at it and drops its bytes.
 * A compare-and-set on storage = 'db', so a second run (or a second migrator) changes nothing.
 */
export async function markMovedToObject(tx: StoreTx, tenantId: string, sha256: string, key: string) {
  return tx.$executeRaw`
    UPDATE message_blobs SET storage = 's3', storage_key = ${key}, bytes = NULL
    WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256} AND storage = 'db'`;
}

/** How many blobs are in each storage, and their bytes: the migration's progress. */
export async function blobCounts(db: StoreDb) {
  const rows = await db.$queryRaw<{ storage: string; n: number; bytes: bigint }[]>`
    SELECT storage, count(*)::int AS n, COALESCE(sum(size), 0)::bigint AS bytes FROM message_blobs GROUP BY storage`;
  return Object.fromEntries(rows.map((r) => [r.storage, { blobs: r.n, bytes: Number(r.bytes) }])) as Record<
    string,
    { blobs: number; bytes: number } | undefined
  >;
}

/** Blob GC: the next `limit` object-stored blobs created before `cutoff`, after `after` (as blobGcCandidates). */
export async function objectBlobCandidates(
  db: StoreDb,
  cutoff: Date,
  after: BlobKey,
  limit: number,
): Promise<BlobKey[]> {
  const rows = await db.$queryRaw<{ tenant_id: string; sha256: string; created_at: Date }[]>`
    SELECT tenant_id::text, sha256, created_at FROM message_blobs
    WHERE created_at < ${cutoff} AND storage = 's3'
      AND (created_at, tenant_id, sha256) > (${after.createdAt}, ${after.tenantId}::uuid, ${after.sha256})
    ORDER BY created_at, tenant_id, sha256 LIMIT ${limit}`;
  return rows.map((r) => ({ tenantId: r.tenant_id, sha256: r.sha256, createdAt: r.created_at }));
}

/**
 * Blob GC for object-stored blobs, in the caller's transaction: the unreferenced ones among
 * `keys` (as deleteUnreferencedBlobs), deleted; returns their sizes and object keys. The caller
 * deletes the objects before it commits (see runBlobGc), so a writer that re-uses one of these
 * blobs waits on the deleted row and then puts its object again.
 */
export async function deleteUnreferencedObjectBlobs(tx: StoreTx, keys: BlobKey[], cutoff: Date) {
  if (keys.length === 0) return [];
  return tx.$queryRaw<{ size: number; storage_key: string }[]>`
    WITH doomed AS (
      SELECT b.tenant_id, b.sha256 FROM message_blobs b
      JOIN unnest(${keys.map((k) => k.tenantId)}::uuid[], ${keys.map((k) => k.sha256)}::text[]) AS k(tenant_id, sha256)
        ON b.tenant_id = k.tenant_id AND b.sha256 = k.sha256
      WHERE b.created_at < ${cutoff} AND b.storage = 's3'
        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = b.tenant_id AND m.blob_sha256 = b.sha256)
        AND NOT EXISTS (
          SELECT 1 FROM outbound_messages o WHERE o.tenant_id = b.tenant_id AND o.blob_sha256 = b.sha256)
      FOR UPDATE OF b SKIP LOCKED)
    DELETE FROM message_blobs b USING doomed d
    WHERE b.tenant_id = d.tenant_id AND b.sha256 = d.sha256
    RETURNING b.size, b.storage_key`;
}

/**
 * The orphan sweep's claim on an object key with no row: a placeholder row (rolled back by the
 * caller) that a writer's insert of the same blob waits on, so no writer can put the object and
 * commit a reference while the sweep deletes it. Returns 'orphan' when the object may go (no row,
 * or the tenant is gone), 'db' for a row that keeps its bytes in PostgreSQL (the object is a
 * leftover of an interrupted migration, and may go too), 's3' when a row refers to the object.
 */
export async function claimObjectKey(
  tx: StoreTx,
  tenantId: string,
  sha256: string,
  key: string,
): Promise<'orphan' | 'db' | 's3'> {
  const tenant = await tx.$queryRaw<unknown[]>`SELECT 1 FROM tenants WHERE id = ${tenantId}::uuid FOR KEY SHARE`;
  if (tenant.length === 0) return 'orphan';
  const [row] = await tx.$queryRaw<{ inserted: number; storage: string | null }[]>`
    WITH ins AS (
      INSERT INTO message_blobs (tenant_id, sha256, size, storage, storage_key, bytes)
      VALUES (${tenantId}::uuid, ${sha256}, 0, 's3', ${key}, NULL)
      ON CONFLICT (tenant_id, sha256) DO NOTHING
      RETURNING 1
    )
    SELECT (SELECT count(*) FROM ins)::int AS inserted,
           (SELECT storage FROM message_blobs WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256}
              FOR UPDATE) AS storage`;
  if (row?.inserted) return 'orphan';
  return row?.storage === 'db' ? 'db' : 's3';
}
