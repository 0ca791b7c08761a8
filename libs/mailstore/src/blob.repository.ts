import type { StoreDb } from './types';

/** A message blob's key, with its age (the GC walks blobs in created_at order). */
export interface BlobKey {
  tenantId: string;
  sha256: string;
  createdAt: Date;
}

/** The next `limit` database-stored blobs created before `cutoff`, after `after` in walk order. */
export async function blobGcCandidates(db: StoreDb, cutoff: Date, after: BlobKey, limit: number): Promise<BlobKey[]> {
  const rows = await db.$queryRaw<{ tenant_id: string; sha256: string; created_at: Date }[]>`
    SELECT tenant_id::text, sha256, created_at FROM message_blobs
    WHERE created_at < ${cutoff} AND storage = 'db'
      AND (created_at, tenant_id, sha256) > (${after.createdAt}, ${after.tenantId}::uuid, ${after.sha256})
    ORDER BY created_at, tenant_id, sha256 LIMIT ${limit}`;
  return rows.map((r) => ({ tenantId: r.tenant_id, sha256: r.sha256, createdAt: r.created_at }));
}

/**
 * One statement: the blobs among `keys` that no message and no outbound message refers to,
 * locked with FOR UPDATE SKIP LOCKED (a blob a writer has locked is skipped), deleted. Returns
 * the sizes freed. A reference committed between NOT EXISTS and the delete makes the ON DELETE
 * RESTRICT check fail the statement (23503); the caller looks again.
 */
export async function deleteUnreferencedBlobs(db: StoreDb, keys: BlobKey[], cutoff: Date): Promise<number[]> {
  if (keys.length === 0) return [];
  const rows = await db.$queryRaw<{ size: number }[]>`
    WITH doomed AS (
      SELECT b.tenant_id, b.sha256 FROM message_blobs b
      JOIN unnest(${keys.map((k) => k.tenantId)}::uuid[], ${keys.map((k) => k.sha256)}::text[]) AS k(tenant_id, sha256)
        ON b.tenant_id = k.tenant_id AND b.sha256 = k.sha256
      WHERE b.created_at < ${cutoff}
        AND NOT EXISTS (SELECT 1 FROM messages m WHERE m.tenant_id = b.tenant_id AND m.blob_sha256 = b.sha256)
        AND NOT EXISTS (
          SELECT 1 FROM outbound_messages o WHERE o.tenant_id = b.tenant_id AND o.blob_sha256 = b.sha256)
      FOR UPDATE OF b SKIP LOCKED)
    DELETE FROM message_blobs b USING doomed d
    WHERE b.tenant_id = d.tenant_id AND b.sha256 = d.sha256
    RETURNING b.size`;
  return rows.map((r) => r.size);
}
