import type { Prisma, PrismaClient } from './generated/client';
import { poolOf } from './statements';

/**
 * A message too large to hold whole (a spooled one): its size and hash, computed while it was
 * read once, and its bytes as chunks of at most {@link BLOB_CHUNK_BYTES}, read afresh at each
 * call (from the spool file).
 */
export interface StreamedBlob {
  readonly size: number;
  readonly sha256: string;
  chunks(): AsyncIterable<Buffer>;
}

/** The largest chunk a StreamedBlob yields, and so the most of it in memory at once. */
export const BLOB_CHUNK_BYTES = 1024 * 1024;

/** The size of a message held whole or streamed. */
export function blobSize(bytes: Uint8Array | StreamedBlob): number {
  return bytes instanceof Uint8Array ? bytes.length : bytes.size;
}

/**
 * Stores a message blob once per tenant and content hash, and keeps it alive until the
 * caller's transaction ends. ON CONFLICT DO NOTHING takes no lock on an existing blob, so the
 * blob garbage collector could delete it between this insert and the insert of the row that
 * refers to it; the FOR KEY SHARE lock closes that window (GC deletes with SKIP LOCKED and
 * passes a locked blob by), and if GC won the race the blob is simply inserted again.
 */
export async function storeBlob(
  tx: Prisma.TransactionClient,
  blob: { tenantId: string; sha256: string; bytes: Uint8Array | StreamedBlob },
): Promise<void> {
  if (!(blob.bytes instanceof Uint8Array)) return storeStreamedBlob(tx, blob.tenantId, blob.sha256, blob.bytes);
  for (let attempt = 0; attempt < 3; attempt++) {
    // One round trip: a row this statement inserted is ours until commit (nobody else sees it);
    // an existing one is locked by the sub-select, which uses the statement's snapshot and so
    // does not see a row the INSERT just wrote. Neither means GC won the race: try again.
    const [row] = await tx.$queryRaw<{ inserted: number; held: number }[]>`
      WITH ins AS (
        INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
        VALUES (${blob.tenantId}::uuid, ${blob.sha256}, ${blob.bytes.length}, ${blob.bytes})
        ON CONFLICT (tenant_id, sha256) DO NOTHING
        RETURNING 1
      )
      SELECT (SELECT count(*) FROM ins)::int AS inserted,
             (SELECT count(*) FROM (
                SELECT 1 FROM message_blobs
                WHERE tenant_id = ${blob.tenantId}::uuid AND sha256 = ${blob.sha256}
                FOR KEY SHARE) AS existing)::int AS held`;
    if (row && row.inserted + row.held > 0) return;
  }
  throw new Error(`could not keep blob ${blob.sha256}: it was deleted three times in a row`);
}

/**
 * storeBlob's part for a message that is not held whole: the blob must already be there
 * (uploadStreamedBlob, before this transaction); it is locked against blob GC as storeBlob
 * locks an existing one. GC only takes blobs older than its cutoff, so a blob uploaded moments
 * ago is gone only if something is badly wrong: the delivery fails (a 4xx; the client retries).
 */
async function storeStreamedBlob(
  tx: Prisma.TransactionClient,
  tenantId: string,
  sha256: string,
  _blob: StreamedBlob,
): Promise<void> {
  const [row] = await tx.$queryRaw<{ held: number }[]>`
    SELECT count(*)::int AS held FROM (
      SELECT 1 FROM message_blobs WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256}
      FOR KEY SHARE) AS existing`;
  if (!row || row.held === 0) throw new Error(`blob ${sha256} was uploaded for this delivery and is gone`);
}

/**
 * Stores a StreamedBlob for `tenantId` in a transaction of its own, before the delivery's: the
 * bytes go to PostgreSQL a chunk at a time (binary parameters) into a large object of that
 * transaction (lo_put), the blob row takes them from there (lo_get) and the large object is
 * removed, so the app holds one chunk at a time and a rollback leaves nothing. A blob the
 * tenant already has is not uploaded again. If the delivery then fails, the blob is left
 * unreferenced and blob GC removes it after its cutoff, as any orphan.
 */
export async function uploadStreamedBlob(db: PrismaClient, tenantId: string, blob: StreamedBlob): Promise<void> {
  const pool = poolOf(db);
  if (!pool) throw new Error('uploadStreamedBlob needs a client made by createPrismaClient');
  const client = await pool.connect();
  let broken: Error | undefined;
  try {
    await client.query('BEGIN');
    const held = await client.query(
      'SELECT 1 FROM message_blobs WHERE tenant_id = $1::uuid AND sha256 = $2 FOR KEY SHARE',
      [tenantId, blob.sha256],
    );
    if (held.rowCount === 0) {
      const created = await client.query<{ oid: string }>('SELECT lo_create(0)::text AS oid');
      const oid = created.rows[0]!.oid;
      let offset = 0;
      for await (const chunk of blob.chunks()) {
        await client.query('SELECT lo_put($1::oid, $2::int8, $3::bytea)', [oid, offset, chunk]);
        offset += chunk.length;
      }
      if (offset !== blob.size) throw new Error(`blob ${blob.sha256}: read ${offset} bytes of ${blob.size}`);
      await client.query(
        `INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
         VALUES ($1::uuid, $2, $3, lo_get($4::oid))
         ON CONFLICT (tenant_id, sha256) DO NOTHING`,
        [tenantId, blob.sha256, blob.size, oid],
      );
      await client.query('SELECT lo_unlink($1::oid)', [oid]);
    }
    await client.query('COMMIT');
  } catch (err) {
    broken = err instanceof Error ? err : new Error(String(err));
    await client.query('ROLLBACK').catch(() => undefined);
    throw err;
  } finally {
    // A connection whose transaction failed mid-way is not given back to the pool.
    client.release(broken);
  }
}
