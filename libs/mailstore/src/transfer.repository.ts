import { Prisma } from '@mailroom/db';
import { notifyExpression } from './notify';
import type { StoreTx } from './types';

/** What COPY or MOVE did: the target's first new uid and modseq, and the source uids in order. */
export interface Transfer {
  uidValidity: number;
  firstUid: number;
  sourceUids: number[];
  sourceIds: string[];
  bytes: number;
}

/** The target folder, locked (it hands out uids), with its mailbox and uid validity. */
export async function lockTarget(tx: StoreTx, tenantId: string, folderId: string) {
  const [row] = await tx.$queryRaw<{ mailbox_id: string; uid_validity: number }[]>`
    SELECT mailbox_id::text, uid_validity FROM folders
    WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid AND deleted_at IS NULL`;
  return row ?? null;
}

/** The visible source messages among `uids`, locked, in uid order. */
export async function lockSources(tx: StoreTx, tenantId: string, mailboxId: string, folderId: string, uids: number[]) {
  return tx.$queryRaw<{ id: string; uid: number; size: number }[]>`
    SELECT id::text, uid, size FROM messages
    WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid AND folder_id = ${folderId}::uuid
      AND uid = ANY(${uids}::int[]) AND deleted_at IS NULL
    ORDER BY uid FOR UPDATE`;
}

/**
 * COPY in one statement: the mailbox charged by the conditional update every writer uses (quota
 * and status hold under concurrency), `n` uids and one modseq taken from the target, the rows
 * inserted sharing their blobs (and parse results), the target notified. Null when the mailbox
 * refused (full or not active).
 */
export async function insertCopies(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  toFolderId: string,
  sourceIds: string[],
  bytes: number,
): Promise<{ firstUid: number; modseq: bigint } | null> {
  const notify = notifyExpression(
    Prisma.sql`${tenantId}::uuid`,
    Prisma.sql`${mailboxId}::uuid`,
    Prisma.sql`slot.id`,
    Prisma.sql`slot.modseq`,
  );
  const [row] = await tx.$queryRaw<{ first_uid: number | null; modseq: bigint | null }[]>`
    WITH counted AS (
      UPDATE mailboxes
      SET used_bytes = used_bytes + ${bytes}, message_count = message_count + ${sourceIds.length}, updated_at = now()
      WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid AND status = 'active'
        AND used_bytes + ${bytes} <= quota_bytes
      RETURNING id
    ), slot AS (
      UPDATE folders SET uid_next = uid_next + ${sourceIds.length}, highest_modseq = highest_modseq + 1
      WHERE tenant_id = ${tenantId}::uuid AND id = ${toFolderId}::uuid AND EXISTS (SELECT 1 FROM counted)
      RETURNING id, uid_next - ${sourceIds.length} AS first_uid, highest_modseq AS modseq
    ), src AS (
      SELECT m.*, s.ord FROM unnest(${sourceIds}::uuid[]) WITH ORDINALITY AS s(id, ord)
      JOIN messages m ON m.tenant_id = ${tenantId}::uuid AND m.id = s.id
    ), inserted AS (
      INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, modseq, size, flags, envelope_from,
        envelope_to, remote_ip, helo_name, message_id_header, subject, from_address, from_name, to_addresses,
        sent_at, has_attachments, spam_score, auth_results, filter_trace, parse_status, parse_error,
        search_headers, search_body, received_at, sort_subject, subject_is_reply, sort_from, sort_to, sort_cc,
        sort_display_from, sort_display_to, thread_refs)
      SELECT src.tenant_id, src.mailbox_id, slot.id, src.blob_sha256, slot.first_uid + src.ord::int - 1, slot.modseq,
        src.size, src.flags, src.envelope_from, src.envelope_to, src.remote_ip, src.helo_name, src.message_id_header,
        src.subject, src.from_address, src.from_name, src.to_addresses, src.sent_at, src.has_attachments,
        src.spam_score, src.auth_results, src.filter_trace, src.parse_status, src.parse_error, src.search_headers,
        src.search_body, src.received_at, src.sort_subject, src.subject_is_reply, src.sort_from, src.sort_to,
        src.sort_cc, src.sort_display_from, src.sort_display_to, src.thread_refs
      FROM src CROSS JOIN slot
      RETURNING 1
    )
    SELECT slot.first_uid, slot.modseq, (SELECT count(*) FROM inserted)::int AS n,
      CASE WHEN slot.id IS NOT NULL THEN ${notify} END AS notified
    FROM (SELECT 1) one LEFT JOIN slot ON true`;
  if (row?.first_uid === null || row?.first_uid === undefined) return null;
  return { firstUid: row.first_uid, modseq: row.modseq! };
}

/**
 * MOVE (RFC 6851) in place: the rows take the target's next uids and one new modseq. The bytes
 * stay where they are, so a move never needs quota (a copy and delete would fail in a full
 * mailbox). The caller logs the source uids as expunged.
 */
export async function moveRows(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  toFolderId: string,
  sourceIds: string[],
) {
  const notify = notifyExpression(
    Prisma.sql`${tenantId}::uuid`,
    Prisma.sql`${mailboxId}::uuid`,
    Prisma.sql`slot.id`,
    Prisma.sql`slot.modseq`,
  );
  const [row] = await tx.$queryRaw<{ first_uid: number; modseq: bigint }[]>`
    WITH slot AS (
      UPDATE folders SET uid_next = uid_next + ${sourceIds.length}, highest_modseq = highest_modseq + 1
      WHERE tenant_id = ${tenantId}::uuid AND id = ${toFolderId}::uuid
      RETURNING id, uid_next - ${sourceIds.length} AS first_uid, highest_modseq AS modseq
    ), moved AS (
      UPDATE messages m SET folder_id = slot.id, uid = slot.first_uid + s.ord::int - 1, modseq = slot.modseq
      FROM unnest(${sourceIds}::uuid[]) WITH ORDINALITY AS s(id, ord), slot
      WHERE m.tenant_id = ${tenantId}::uuid AND m.id = s.id
      RETURNING 1
    )
    SELECT slot.first_uid, slot.modseq, (SELECT count(*) FROM moved)::int AS n, ${notify} AS notified FROM slot`;
  if (!row) throw new Error(`folder ${toFolderId} vanished during a move`);
  return { firstUid: row.first_uid, modseq: row.modseq };
}
