import type { Prisma } from './generated/client';

/**
 * Stores a message blob once per tenant and content hash, and keeps it alive until the
 * caller's transaction ends. ON CONFLICT DO NOTHING takes no lock on an existing blob, so the
 * blob garbage collector could delete it between this insert and the insert of the row that
 * refers to it; the FOR KEY SHARE lock closes that window (GC deletes with SKIP LOCKED and
 * passes a locked blob by), and if GC won the race the blob is simply inserted again.
 */
export async function storeBlob(
  tx: Prisma.TransactionClient,
  blob: { tenantId: string; sha256: string; bytes: Uint8Array },
): Promise<void> {
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
