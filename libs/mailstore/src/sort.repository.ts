import { Prisma } from '@mailroom/db';
import { messageIds, messageSummaryFromHeaders, sortKeysOf } from '@mailroom/rules';
import type { SearchQuery, SortCriterion, SortKey, ThreadMessage } from './mailbox.types';
import { searchCondition } from './search.repository';
import type { StoreDb } from './types';

/** The stored column each RFC 5256 / RFC 5957 sort key orders by; strings compare bytewise. */
const ORDER: Record<SortKey, Prisma.Sql> = {
  // INTERNALDATE and the sent date as IMAP shows them: to the second, so equal ones tie on seq.
  arrival: Prisma.sql`date_trunc('second', m.received_at)`,
  cc: Prisma.sql`m.sort_cc COLLATE "C"`,
  date: Prisma.sql`date_trunc('second', COALESCE(m.sent_at, m.received_at))`,
  from: Prisma.sql`m.sort_from COLLATE "C"`,
  size: Prisma.sql`m.size`,
  subject: Prisma.sql`m.sort_subject COLLATE "C"`,
  to: Prisma.sql`m.sort_to COLLATE "C"`,
  displayfrom: Prisma.sql`m.sort_display_from COLLATE "C"`,
  displayto: Prisma.sql`m.sort_display_to COLLATE "C"`,
};

/**
 * IMAP SORT (RFC 5256): the uids of the visible messages matching `query`, ordered in SQL by
 * the stored keys; equal keys keep sequence (uid) order, whatever REVERSE says (section 3).
 */
export async function sortFolder(
  db: StoreDb,
  tenantId: string,
  folderId: string,
  query: SearchQuery,
  criteria: SortCriterion[],
): Promise<number[]> {
  await fillSortKeys(db, tenantId, folderId);
  const order = criteria.map((c) => (c.reverse ? Prisma.sql`${ORDER[c.key]} DESC` : ORDER[c.key]));
  const rows = await db.$queryRaw<{ uid: number }[]>`
    SELECT m.uid FROM messages m
    WHERE m.tenant_id = ${tenantId}::uuid AND m.folder_id = ${folderId}::uuid AND m.deleted_at IS NULL
      AND (${searchCondition(query)})
    ORDER BY ${Prisma.join([...order, Prisma.sql`m.uid`], ', ')}`;
  return rows.map((r) => r.uid);
}

/** IMAP THREAD: what the algorithms of RFC 5256 section 3 read of each matching message, by uid. */
export async function threadMessages(
  db: StoreDb,
  tenantId: string,
  folderId: string,
  query: SearchQuery,
): Promise<ThreadMessage[]> {
  await fillSortKeys(db, tenantId, folderId);
  // A row stored between the fill and this read (a generated DSN) threads as one without headers.
  const rows = await db.$queryRaw<
    { uid: number; message_id: string | null; refs: string[]; subject: string; reply: boolean; date: Date }[]
  >`
    SELECT m.uid, m.message_id_header AS message_id, COALESCE(m.thread_refs, '{}') AS refs,
      COALESCE(m.sort_subject, '') AS subject, COALESCE(m.subject_is_reply, false) AS reply, date_trunc('second', COALESCE(m.sent_at, m.received_at)) AS date
    FROM messages m
    WHERE m.tenant_id = ${tenantId}::uuid AND m.folder_id = ${folderId}::uuid AND m.deleted_at IS NULL
      AND (${searchCondition(query)})
    ORDER BY m.uid`;
  return rows.map((r) => ({
    uid: r.uid,
    messageId: messageIds(r.message_id ?? '')[0] ?? null,
    references: r.refs,
    baseSubject: r.subject,
    isReply: r.reply,
    sentAt: r.date,
  }));
}

const FILL_BATCH = 500;
const HEADER_LIMIT = 65_536;

/**
 * Computes the sort keys of rows written without them (before these columns existed, or
 * generated messages) from the header of their blob, a batch at a time. Like a parse result,
 * the keys are not a change a client sees: no modseq.
 */
export async function fillSortKeys(db: StoreDb, tenantId: string, folderId: string): Promise<void> {
  for (;;) {
    const rows = await db.$queryRaw<{ id: string; size: number; head: Uint8Array | null }[]>`
      SELECT m.id::text, m.size, substring(b.bytes FOR LEAST(${HEADER_LIMIT}::int,
        COALESCE(NULLIF(position('\\x0d0a0d0a'::bytea IN b.bytes), 0) + 1, octet_length(b.bytes)))) AS head
      FROM messages m JOIN message_blobs b ON b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256
      WHERE m.tenant_id = ${tenantId}::uuid AND m.folder_id = ${folderId}::uuid AND m.deleted_at IS NULL
        AND m.sort_subject IS NULL
      LIMIT ${FILL_BATCH}`;
    if (rows.length === 0) return;
    // A blob whose bytes are not in the database (another storage) sorts as a message without headers.
    const header = (r: (typeof rows)[number]) => (r.head ? Buffer.from(r.head).toString('utf8') : '');
    const keys = rows.map((r) => sortKeysOf(messageSummaryFromHeaders(header(r), r.size)));
    const col = <T>(f: (k: (typeof keys)[number]) => T) => keys.map(f);
    await db.$executeRaw`
      UPDATE messages m SET sort_subject = u.subject, subject_is_reply = u.reply, sort_from = u.sfrom,
        sort_to = u.sto, sort_cc = u.scc, sort_display_from = u.dfrom, sort_display_to = u.dto,
        thread_refs = string_to_array(u.refs, ' ')
      FROM unnest(${rows.map((r) => r.id)}::uuid[], ${col((k) => k.subject)}::text[],
        ${col((k) => k.subjectIsReply)}::boolean[], ${col((k) => k.from)}::text[], ${col((k) => k.to)}::text[],
        ${col((k) => k.cc)}::text[], ${col((k) => k.displayFrom)}::text[], ${col((k) => k.displayTo)}::text[],
        ${col((k) => k.threadRefs.join(' '))}::text[])
        AS u(id, subject, reply, sfrom, sto, scc, dfrom, dto, refs)
      WHERE m.tenant_id = ${tenantId}::uuid AND m.id = u.id`;
    if (rows.length < FILL_BATCH) return;
  }
}
