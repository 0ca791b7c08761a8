import { defineStatement } from '@mailroom/db';
import type { FolderTarget, MessageRowInput } from './message.repository';
import { MAIL_CHANNEL } from './notify';
import type { StoreDb } from './types';

/** One mailbox copy of a received message: where it goes and what differs per copy. */
export interface CopyRow {
  tenantId: string;
  mailboxId: string;
  folder: FolderTarget;
  flags: string[];
  envelopeTo: string;
  filterTrace: unknown;
}

/** A tenant's part: the tenant-wide usage the caller knows (TenantUsage) and the bytes added. */
export interface TenantCharge {
  tenantId: string;
  usedBytes: bigint;
  addedBytes: number;
}

/**
 * Raised by PostgreSQL (and so rolling the whole statement back) when some part of a one-statement
 * delivery could not be done: a folder to create, a mailbox full or not active, the tenant over
 * its limit, a blob GC took. The caller then does it step by step, which says why.
 */
const REFUSED = 'mailroom: one-statement delivery refused';

/** True for the refusal of {@link insertCopies}, or a deadlock it lost (both rolled back). */
export function isCopiesRefused(err: unknown): boolean {
  const text = err instanceof Error ? `${err.message} ${String((err as { meta?: unknown }).meta ?? '')}` : '';
  return text.includes(REFUSED) || /40P01|deadlock detected/.test(text);
}

type CopiesParams = [
  rows: string,
  size: number,
  sha256: string,
  bytes: Buffer,
  tenantIds: string[],
  envelopeFrom: string,
  remoteIp: string | null,
  helo: string | null,
  messageId: string | null,
  subject: string | null,
  fromAddress: string | null,
  fromName: string | null,
  toAddresses: string[],
  sentAt: Date | null,
  spamScore: number | null,
  authResults: string | null,
  sortSubject: string | null,
  subjectIsReply: boolean | null,
  sortFrom: string | null,
  sortTo: string | null,
  sortCc: string | null,
  sortDisplayFrom: string | null,
  sortDisplayTo: string | null,
  threadRefs: string[],
  tenantUsed: string[],
  tenantAdded: number[],
  copyCount: number,
  tenantCount: number,
  refused: typeof REFUSED,
];

/**
 * The statement of {@link insertCopies}, named and prepared: its text is fixed (lists are array
 * or jsonb parameters), the message bytes go as one binary bytea parameter. Its generic plan was
 * checked against a big and a small tenant (bench/statement-plans.mjs).
 */
const INSERT_COPIES = defineStatement<
  { id: string | null; mailbox_id: string | null; notified: string | null },
  CopiesParams
>(
  'deliver_copies',
  `WITH input AS (
     SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(tenant_id uuid, mailbox_id uuid, folder_name text,
       folder_kind "FolderKind", flags text[], envelope_to text, filter_trace jsonb)
   ), target AS (
     SELECT input.*, (
       SELECT f.id FROM folders f
       WHERE f.tenant_id = input.tenant_id AND f.mailbox_id = input.mailbox_id AND f.deleted_at IS NULL
         AND (f.name = input.folder_name OR f.kind = input.folder_kind)
       ORDER BY (f.name = input.folder_name) DESC NULLS LAST, f.created_at
       LIMIT 1) AS folder_id
     FROM input
   ), locked AS (
     -- One primary-key probe per copy, in (tenant, id) order: jsonb_to_recordset is estimated at
     -- 100 rows, so a plain join is planned as a hash join over a scan of every mailbox.
     SELECT l.tenant_id, l.id
     FROM (SELECT tenant_id, mailbox_id FROM target WHERE folder_id IS NOT NULL
           ORDER BY tenant_id, mailbox_id) t
     CROSS JOIN LATERAL (
       SELECT m.tenant_id, m.id FROM mailboxes m
       WHERE m.tenant_id = t.tenant_id AND m.id = t.mailbox_id
       FOR UPDATE OF m) l
   ), counted AS (
     -- Every locked mailbox is charged; one that is not active or goes over its quota comes back
     -- not ok, gets no copy, and the verdict then undoes the whole statement. The conditions are
     -- on the returned row, and the arrays in the WHERE, so the rows are found through the
     -- primary key (see locked), never by a scan of the tenant's mailboxes.
     UPDATE mailboxes m
     SET used_bytes = m.used_bytes + $2::int, message_count = m.message_count + 1, updated_at = now()
     FROM locked l
     WHERE m.tenant_id = ANY(ARRAY(SELECT tenant_id FROM locked)) AND m.id = ANY(ARRAY(SELECT id FROM locked))
       AND m.tenant_id = l.tenant_id AND m.id = l.id
     RETURNING m.tenant_id, m.id, m.status = 'active' AND m.used_bytes <= m.quota_bytes AS ok
   ), slot AS (
     UPDATE folders f SET uid_next = f.uid_next + 1, highest_modseq = f.highest_modseq + 1
     FROM target t JOIN counted c ON c.tenant_id = t.tenant_id AND c.id = t.mailbox_id AND c.ok
     WHERE f.tenant_id = t.tenant_id AND f.id = t.folder_id
     RETURNING t.tenant_id, t.mailbox_id, f.id AS folder_id, f.uid_next - 1 AS uid, f.highest_modseq AS modseq,
       t.flags, t.envelope_to, t.filter_trace
   ), blob_new AS (
     INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
     SELECT t, $3::text, $2::int, $4::bytea FROM unnest($5::uuid[]) AS t
     ON CONFLICT (tenant_id, sha256) DO NOTHING
     RETURNING tenant_id
   ), blob_held AS (
     SELECT tenant_id FROM message_blobs
     WHERE tenant_id = ANY($5::uuid[]) AND sha256 = $3::text
     FOR KEY SHARE
   ), message AS (
     INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, modseq, size, flags, envelope_from,
       envelope_to, remote_ip, helo_name, message_id_header, subject, from_address, from_name, to_addresses,
       sent_at, spam_score, auth_results, filter_trace, parse_status, received_at, sort_subject, subject_is_reply,
       sort_from, sort_to, sort_cc, sort_display_from, sort_display_to, thread_refs)
     SELECT s.tenant_id, s.mailbox_id, s.folder_id, $3::text, s.uid, s.modseq, $2::int,
       s.flags, $6::text, s.envelope_to, $7::text, $8::text, $9::text,
       $10::text, $11::text, $12::text, $13::text[], $14::timestamptz,
       $15::float8, $16::jsonb,
       s.filter_trace, 'pending', now(), $17::text, $18::boolean,
       $19::text, $20::text, $21::text, $22::text, $23::text, $24::text[]
     FROM slot s
     RETURNING id, tenant_id, mailbox_id, folder_id, modseq
   ), within_plan AS (
     SELECT q.tenant_id
     FROM unnest($5::uuid[], $25::int8[], $26::int8[]) AS q(tenant_id, used, added)
     JOIN tenants tn ON tn.id = q.tenant_id
     WHERE q.used + q.added <= tn.storage_quota_bytes
   ), verdict AS (
     SELECT (SELECT count(*) FROM message) = $27::int
       AND (SELECT count(DISTINCT tenant_id) FROM (
         SELECT tenant_id FROM blob_new UNION ALL SELECT tenant_id FROM blob_held) b) = $28::int
       AND (SELECT count(*) FROM within_plan) = $28::int AS ok
   )
   SELECT message.id::text AS id, message.mailbox_id::text AS mailbox_id,
     CASE WHEN verdict.ok
       THEN pg_notify('${MAIL_CHANNEL}', message.tenant_id::text || ':' || message.mailbox_id::text || ':'
         || message.folder_id::text || ':' || message.modseq::text)::text
       -- Not all of it: an error (a data-dependent cast, so never folded at plan time) undoes all of it.
       ELSE (CASE WHEN verdict.ok THEN '0' ELSE $29::text END)::int::text END AS notified
   FROM verdict LEFT JOIN message ON true`,
);

/**
 * Every mailbox copy of one received message in one statement (one round trip, no explicit
 * transaction: a statement is atomic): the blob once per tenant (kept or locked FOR KEY SHARE
 * against blob GC, as storeBlob does), each mailbox checked and charged by the same
 * conditional update as insertMessage (locked in (tenant, id) order, the one lock order of
 * every writer, before its folder), each folder's next uid and modseq, the rows, the IDLE
 * notifications, and the tenant plan limit. Anything short of all of it raises an error, so
 * nothing of it commits; the caller falls back to the step-by-step transaction.
 * Copies must go to distinct mailboxes. Returns the new message ids by mailbox.
 */
export async function insertCopies(
  db: StoreDb,
  bytes: Buffer,
  sha256: string,
  common: Omit<MessageRowInput, 'flags' | 'envelopeTo' | 'filterTrace' | 'sha256' | 'size' | 'receivedAt'>,
  copies: CopyRow[],
  tenants: TenantCharge[],
): Promise<Map<string, string>> {
  const h = common.header;
  const k = h.sortKeys;
  const size = bytes.length;
  const rows = JSON.stringify(
    copies.map((c) => ({
      tenant_id: c.tenantId,
      mailbox_id: c.mailboxId,
      folder_name: c.folder.name,
      folder_kind: c.folder.kind,
      flags: c.flags,
      envelope_to: c.envelopeTo,
      filter_trace: c.filterTrace ?? null,
    })),
  );
  const result = await INSERT_COPIES.run(db, [
    rows,
    size,
    sha256,
    bytes,
    tenants.map((t) => t.tenantId),
    common.envelopeFrom,
    common.remoteIp,
    common.helo,
    h.messageId,
    h.subject,
    h.fromAddress,
    h.fromName,
    h.toAddresses,
    h.sentAt,
    common.spamScore,
    common.authResults === null ? null : JSON.stringify(common.authResults),
    k?.subject ?? null,
    k?.subjectIsReply ?? null,
    k?.from ?? null,
    k?.to ?? null,
    k?.cc ?? null,
    k?.displayFrom ?? null,
    k?.displayTo ?? null,
    k?.threadRefs ?? [],
    tenants.map((t) => t.usedBytes.toString()),
    tenants.map((t) => t.addedBytes),
    copies.length,
    tenants.length,
    REFUSED,
  ]);
  const ids = new Map<string, string>();
  for (const row of result) if (row.id && row.mailbox_id) ids.set(row.mailbox_id, row.id);
  return ids;
}
