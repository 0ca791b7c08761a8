import { Prisma, type FolderKind } from '@mailroom/db';
import type { MessageState } from './mailbox.types';
import { notifyExpression } from './notify';
import type { HeaderSummary, StoreTx } from './types';

/** Everything one message row holds besides where it goes. */
export interface MessageRowInput {
  sha256: string;
  size: number;
  flags: string[];
  envelopeFrom: string;
  envelopeTo: string;
  remoteIp: string | null;
  helo: string | null;
  header: HeaderSummary;
  spamScore: number | null;
  authResults: unknown;
  filterTrace: unknown;
  receivedAt: Date | null;
}

/** Which folder: by id (IMAP APPEND), else by name, else the first of a kind. */
export interface FolderTarget {
  folderId: string | null;
  name: string | null;
  kind: FolderKind;
}

export type InsertOutcome =
  | { kind: 'stored'; id: string; folderId: string; uid: number; modseq: bigint }
  /** The folder exists, but the mailbox refused the bytes (full, disabled) or vanished. */
  | { kind: 'refused'; folderId: string }
  | { kind: 'no_folder' };

/**
 * One mailbox copy in one statement (it runs for every recipient of every message): the
 * quota and status checked and charged by a conditional update that holds under concurrency,
 * the folder's next uid and modseq taken, the row inserted. The mailbox row is locked before
 * the folder row, as everywhere else, so writers never deadlock.
 */
export async function insertMessage(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  folder: FolderTarget,
  m: MessageRowInput,
): Promise<InsertOutcome> {
  const h = m.header;
  const k = h.sortKeys;
  // IDLE sessions hear of the message on commit: one more expression in the same statement.
  const notify = notifyExpression(
    Prisma.sql`${tenantId}::uuid`,
    Prisma.sql`${mailboxId}::uuid`,
    Prisma.sql`message.folder_id`,
    Prisma.sql`message.modseq`,
  );
  const [row] = await tx.$queryRaw<
    { folder_id: string | null; id: string | null; uid: number | null; modseq: bigint | null }[]
  >`
    WITH target AS (
      SELECT id FROM folders
      WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid AND deleted_at IS NULL
        AND (id = ${folder.folderId}::uuid
          OR (${folder.folderId}::uuid IS NULL AND (name = ${folder.name} OR kind = ${folder.kind}::"FolderKind")))
      ORDER BY (name = ${folder.name}) DESC NULLS LAST, created_at
      LIMIT 1
    ), counted AS (
      UPDATE mailboxes
      SET used_bytes = used_bytes + ${m.size}, message_count = message_count + 1, updated_at = now()
      WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid AND status = 'active'
        AND used_bytes + ${m.size} <= quota_bytes AND EXISTS (SELECT 1 FROM target)
      RETURNING id
    ), slot AS (
      UPDATE folders SET uid_next = uid_next + 1, highest_modseq = highest_modseq + 1
      WHERE tenant_id = ${tenantId}::uuid AND id = (SELECT id FROM target) AND EXISTS (SELECT 1 FROM counted)
      RETURNING id, uid_next - 1 AS uid, highest_modseq AS modseq
    ), message AS (
      INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, modseq, size, flags, envelope_from,
        envelope_to, remote_ip, helo_name, message_id_header, subject, from_address, from_name, to_addresses,
        sent_at, spam_score, auth_results, filter_trace, parse_status, received_at, sort_subject, subject_is_reply,
        sort_from, sort_to, sort_cc, sort_display_from, sort_display_to, thread_refs)
      SELECT ${tenantId}::uuid, ${mailboxId}::uuid, slot.id, ${m.sha256}, slot.uid, slot.modseq, ${m.size},
        ${m.flags}::text[], ${m.envelopeFrom}, ${m.envelopeTo}, ${m.remoteIp}, ${m.helo}, ${h.messageId},
        ${h.subject}, ${h.fromAddress}, ${h.fromName}, ${h.toAddresses}::text[], ${h.sentAt}::timestamptz,
        ${m.spamScore}::float8, ${m.authResults === null ? null : JSON.stringify(m.authResults)}::jsonb,
        ${m.filterTrace === null ? null : JSON.stringify(m.filterTrace)}::jsonb, 'pending',
        COALESCE(${m.receivedAt}::timestamptz, now()), ${k?.subject ?? null}, ${k?.subjectIsReply ?? null}::boolean,
        ${k?.from ?? null}, ${k?.to ?? null}, ${k?.cc ?? null}, ${k?.displayFrom ?? null}, ${k?.displayTo ?? null},
        ${k?.threadRefs ?? []}::text[]
      FROM slot
      RETURNING id, folder_id, uid, modseq
    )
    SELECT (SELECT id::text FROM target) AS folder_id, message.id::text AS id, message.uid, message.modseq,
      CASE WHEN message.id IS NOT NULL THEN ${notify} END AS notified
    FROM (SELECT 1) one LEFT JOIN message ON true`;
  if (!row?.folder_id) return { kind: 'no_folder' };
  if (!row.id) return { kind: 'refused', folderId: row.folder_id };
  return { kind: 'stored', id: row.id, folderId: row.folder_id, uid: row.uid!, modseq: row.modseq! };
}

/** Why a mailbox refused a copy: its status, or whether the bytes would take it past its quota. */
export async function mailboxState(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  size: number,
): Promise<{ status: string; fits: boolean } | null> {
  const [row] = await tx.$queryRaw<{ status: string; fits: boolean }[]>`
    SELECT status::text, used_bytes + ${size} <= quota_bytes AS fits
    FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid`;
  return row ?? null;
}

export const SPECIAL_FOLDERS = { inbox: 'INBOX', junk: 'Junk', sent: 'Sent' } as const;

/** INBOX, Junk or Sent for a mailbox that has none yet; returns its name. */
export async function createSpecialFolder(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  kind: keyof typeof SPECIAL_FOLDERS,
): Promise<string> {
  const name = SPECIAL_FOLDERS[kind];
  await tx.folder.upsert({
    where: { tenantId_mailboxId_name: { tenantId, mailboxId, name } },
    create: { tenantId, mailboxId, name, kind },
    update: {},
    select: { id: true },
  });
  return name;
}

export async function tenantQuota(tx: StoreTx, tenantId: string): Promise<bigint | null> {
  const [tenant] = await tx.$queryRaw<Array<{ quota: bigint }>>`
    SELECT storage_quota_bytes AS quota FROM tenants WHERE id = ${tenantId}::uuid`;
  return tenant?.quota ?? null;
}

/** Locks mailboxes in (tenant, id) order: the one lock order of every writer. */
export async function lockMailboxes(tx: StoreTx, pairs: Array<[tenantId: string, mailboxId: string]>): Promise<void> {
  const ordered = [...new Map(pairs.map((p) => [`${p[0]}/${p[1]}`, p])).values()].sort(
    (a, b) => a[0].localeCompare(b[0]) || a[1].localeCompare(b[1]),
  );
  for (const [tenantId, mailboxId] of ordered) {
    await tx.$queryRaw`SELECT 1 FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid FOR UPDATE`;
  }
}

/**
 * Sets, adds or removes flags of messages in one folder by uid, giving each changed message the
 * folder's next modseq (RFC 7162 section 3.1: one new modseq per change) and notifying the folder.
 * Unchanged messages keep theirs. With `unchangedSince` (CONDSTORE STORE UNCHANGEDSINCE, RFC 7162
 * 3.1.3) a message whose modseq is above it is left alone and its uid returned in `failed`.
 */
export async function updateFlags(
  tx: StoreTx,
  tenantId: string,
  folderId: string,
  uids: number[],
  op: 'set' | 'add' | 'remove',
  flags: string[],
  unchangedSince?: bigint,
): Promise<{ changed: MessageState[]; failed: number[] }> {
  // Message rows before the folder row, as deleteMessages takes them (a DELETE, then the
  // folder's modseq): the other order deadlocks a STORE against retention or an EXPUNGE.
  const locked = await tx.$queryRaw<{ id: string; uid: number; modseq: bigint }[]>`
    SELECT id::text, uid, modseq FROM messages
    WHERE tenant_id = ${tenantId}::uuid AND folder_id = ${folderId}::uuid AND uid = ANY(${uids}::int[])
      AND deleted_at IS NULL
    ORDER BY uid FOR UPDATE`;
  const failed = unchangedSince === undefined ? [] : locked.filter((m) => m.modseq > unchangedSince).map((m) => m.uid);
  const ids = locked.filter((m) => unchangedSince === undefined || m.modseq <= unchangedSince).map((m) => m.id);
  if (ids.length === 0) return { changed: [], failed };
  const [folder] = await tx.$queryRaw<{ highest: bigint }[]>`
    UPDATE folders SET highest_modseq = highest_modseq + 1
    WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid
    RETURNING highest_modseq AS highest`;
  if (!folder) return { changed: [], failed };
  const changed = await writeFlags(tx, tenantId, ids, op, flags, folder.highest);
  if (changed.length === 0) {
    // Nothing changed: give the modseq back, so HIGHESTMODSEQ moves only with a change. The
    // folder row is ours until commit, so nobody took a modseq after it.
    await tx.$executeRaw`
      UPDATE folders SET highest_modseq = highest_modseq - 1
      WHERE tenant_id = ${tenantId}::uuid AND id = ${folderId}::uuid AND highest_modseq = ${folder.highest}`;
  }
  return {
    changed: changed.map(({ uid, flags, modseq }) => ({ uid, flags, modseq })).sort((a, b) => a.uid - b.uid),
    failed,
  };
}

/** The flag update itself; PostgreSQL folds the identical notifications of the rows into one. */
async function writeFlags(
  tx: StoreTx,
  tenantId: string,
  ids: string[],
  op: 'set' | 'add' | 'remove',
  flags: string[],
  modseq: bigint,
): Promise<MessageState[]> {
  const notify = notifyExpression(
    Prisma.sql`m.tenant_id`,
    Prisma.sql`m.mailbox_id`,
    Prisma.sql`m.folder_id`,
    Prisma.sql`m.modseq`,
  );
  return tx.$queryRaw<MessageState[]>`
    WITH next AS (
      SELECT id, CASE ${op}
          WHEN 'set' THEN ARRAY(SELECT DISTINCT unnest(${flags}::text[]) ORDER BY 1)
          WHEN 'add' THEN ARRAY(SELECT DISTINCT unnest(flags || ${flags}::text[]) ORDER BY 1)
          ELSE ARRAY(SELECT f FROM unnest(flags) f WHERE f <> ALL(${flags}::text[]) ORDER BY 1)
        END AS flags
      FROM messages
      WHERE tenant_id = ${tenantId}::uuid AND id = ANY(${ids}::uuid[])
    )
    UPDATE messages m SET flags = next.flags, modseq = ${modseq}
    FROM next
    WHERE m.tenant_id = ${tenantId}::uuid AND m.id = next.id
      AND NOT (m.flags @> next.flags AND next.flags @> m.flags)
    RETURNING m.uid, m.flags, m.modseq, ${notify} AS notified`;
}
