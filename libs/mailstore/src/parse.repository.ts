import { blobStore, objectKey } from './blob-store';
import type { StoreTx } from './types';

/** A message waiting for its MIME parse; `bytes` is null when it is over the size limit. */
export interface PendingParse {
  tenantId: string;
  id: string;
  size: number;
  bytes: Buffer | null;
}

/** What parsing a message found, or why it failed. */
export type ParseResult =
  | {
      status: 'parsed';
      hasAttachments: boolean | null;
      sentAt: Date | null;
      /** IMAP SEARCH text: decoded "Name: value" header lines, and the body's text (null: not parsed in full). */
      search?: { headers: string; body: string } | null;
    }
  | { status: 'failed'; error: string };

/**
 * Up to `limit` messages still 'pending', oldest first, with their bytes when they are at most
 * `maxBytes`. Claimed with FOR UPDATE OF m SKIP LOCKED, so two workers never parse the same one.
 */
export async function claimPendingParses(tx: StoreTx, limit: number, maxBytes: number): Promise<PendingParse[]> {
  const rows = await tx.$queryRaw<
    {
      tenant_id: string;
      id: string;
      size: number;
      bytes: Uint8Array | null;
      storage: string;
      storage_key: string | null;
      sha256: string;
    }[]
  >`
    SELECT m.tenant_id::text, m.id::text, m.size, CASE WHEN m.size <= ${maxBytes} THEN b.bytes END AS bytes,
      b.storage, b.storage_key, m.blob_sha256 AS sha256
    FROM messages m JOIN message_blobs b ON b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256
    WHERE m.parse_status = 'pending'
    ORDER BY m.parse_status, m.received_at
    LIMIT ${limit}
    FOR UPDATE OF m SKIP LOCKED`;
  const out: PendingParse[] = [];
  for (const r of rows) {
    let bytes: Buffer | null = r.bytes ? Buffer.from(r.bytes) : null;
    if (r.storage !== 'db' && r.size <= maxBytes) {
      bytes = await blobStore().getObject(r.storage, r.storage_key ?? objectKey(r.tenant_id, r.sha256));
    }
    out.push({ tenantId: r.tenant_id, id: r.id, size: r.size, bytes });
  }
  return out;
}

/**
 * Stores a parse result on the message row. Not a change a mail client sees (flags, folder and
 * content stay as they were), so unlike every other message update it takes no new modseq and
 * leaves the folder's highest_modseq alone: a CONDSTORE client has nothing to resynchronise.
 */
export async function recordParseResult(tx: StoreTx, tenantId: string, id: string, result: ParseResult): Promise<void> {
  const where = { tenantId_id: { tenantId, id } };
  if (result.status === 'failed') {
    await tx.message.update({ where, data: { parseStatus: 'failed', parseError: result.error } });
    return;
  }
  await tx.message.update({
    where,
    data: {
      parseStatus: 'parsed',
      hasAttachments: result.hasAttachments,
      ...(result.sentAt ? { sentAt: result.sentAt } : {}),
      ...(result.search ? { searchHeaders: result.search.headers, searchBody: result.search.body } : {}),
    },
  });
}
