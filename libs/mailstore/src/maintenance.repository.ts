import type { StoreDb, StoreTx } from './types';

/** One folder whose mail received before `cutoff` has expired. */
export interface ExpiryTarget {
  mailboxId: string;
  folderId: string;
  cutoff: Date;
}

/** A message row claimed for deletion, locked by the caller's transaction. */
export interface ClaimedMessage {
  id: string;
  mailboxId: string;
  folderId: string;
  size: number;
}

/**
 * Up to `limit` expired messages of the targets, oldest first, claimed with FOR UPDATE SKIP
 * LOCKED: a second worker running at the same time takes other rows, so each message is deleted
 * (and counted off the quota) exactly once.
 */
export async function claimExpiredMessages(
  tx: StoreTx,
  tenantId: string,
  targets: ExpiryTarget[],
  limit: number,
): Promise<ClaimedMessage[]> {
  if (targets.length === 0) return [];
  const rows = await tx.$queryRaw<{ id: string; mailbox_id: string; folder_id: string; size: number }[]>`
    WITH t AS (
      SELECT * FROM unnest(${targets.map((t) => t.folderId)}::uuid[], ${targets.map((t) => t.mailboxId)}::uuid[],
        ${targets.map((t) => t.cutoff.toISOString())}::timestamptz[]) AS t(folder_id, mailbox_id, cutoff))
    SELECT v.id::text, v.mailbox_id::text, v.folder_id::text, v.size FROM t CROSS JOIN LATERAL (
      SELECT m.id, m.mailbox_id, m.folder_id, m.size FROM messages m
      WHERE m.tenant_id = ${tenantId}::uuid AND m.mailbox_id = t.mailbox_id AND m.folder_id = t.folder_id
        AND m.received_at < t.cutoff
      ORDER BY m.received_at LIMIT ${limit}
      FOR UPDATE SKIP LOCKED) v
    LIMIT ${limit}`;
  return rows.map((r) => ({ id: r.id, mailboxId: r.mailbox_id, folderId: r.folder_id, size: r.size }));
}

/**
 * The next `limit` messages of a mailbox, folder by folder, oldest first. Not locked: the
 * purge holds the (deleted) mailbox row, and the delete counts only rows it really removed.
 */
export async function mailboxMessageIds(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
  limit: number,
): Promise<string[]> {
  const rows = await tx.$queryRaw<{ id: string }[]>`
    SELECT id::text FROM messages WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid
    ORDER BY folder_id, received_at LIMIT ${limit}`;
  return rows.map((r) => r.id);
}

/** A mailbox's usage counters beside the sums of its message rows. */
export interface MailboxUsage {
  tenantId: string;
  mailboxId: string;
  usedBytes: bigint;
  messageCount: number;
  countedBytes: bigint;
  countedMessages: number;
}

/**
 * The usage of `limit` mailboxes after `after` in (tenant, id) order, beside the sums of their
 * rows (hidden ones included: they still take storage). Read without locks: a delivery
 * committing meanwhile may show as drift, which `repairMailboxUsage` then re-checks under lock.
 */
export async function mailboxUsagePage(
  db: StoreDb,
  after: { tenantId: string; mailboxId: string },
  limit: number,
): Promise<MailboxUsage[]> {
  const rows = await db.$queryRaw<
    { tenant_id: string; id: string; used_bytes: bigint; message_count: number; bytes: bigint; n: number }[]
  >`
    SELECT mb.tenant_id::text, mb.id::text, mb.used_bytes, mb.message_count,
      COALESCE(s.bytes, 0)::bigint AS bytes, COALESCE(s.n, 0)::int AS n
    FROM (SELECT tenant_id, id, used_bytes, message_count FROM mailboxes
          WHERE (tenant_id, id) > (${after.tenantId}::uuid, ${after.mailboxId}::uuid)
          ORDER BY tenant_id, id LIMIT ${limit}) mb
    LEFT JOIN LATERAL (
      SELECT sum(size) AS bytes, count(*) AS n FROM messages m
      WHERE m.tenant_id = mb.tenant_id AND m.mailbox_id = mb.id) s ON true
    ORDER BY mb.tenant_id, mb.id`;
  return rows.map((r) => ({
    tenantId: r.tenant_id,
    mailboxId: r.id,
    usedBytes: r.used_bytes,
    messageCount: r.message_count,
    countedBytes: r.bytes,
    countedMessages: r.n,
  }));
}

/**
 * Sets a mailbox's usage to the sums of its rows. The mailbox is locked first (FOR UPDATE, which
 * waits for in-flight deliveries to it) and summed again, so a delivery committing meanwhile is
 * never mistaken for drift and the repair never loses a concurrent write. Returns the drift,
 * stored minus counted (positive when the mailbox was charged for more than it holds), or null
 * when there was none.
 */
export async function repairMailboxUsage(
  tx: StoreTx,
  tenantId: string,
  mailboxId: string,
): Promise<{ bytes: number; messages: number } | null> {
  const [m] = await tx.$queryRaw<{ used_bytes: bigint; message_count: number }[]>`
    SELECT used_bytes, message_count
    FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid FOR UPDATE`;
  if (!m) return null;
  const [s] = await tx.$queryRaw<{ bytes: bigint; n: number }[]>`
    SELECT COALESCE(sum(size), 0)::bigint AS bytes, count(*)::int AS n
    FROM messages WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${mailboxId}::uuid`;
  if (!s || (s.bytes === m.used_bytes && s.n === m.message_count)) return null;
  await tx.$executeRaw`
    UPDATE mailboxes SET used_bytes = ${s.bytes}, message_count = ${s.n}, updated_at = now()
    WHERE tenant_id = ${tenantId}::uuid AND id = ${mailboxId}::uuid`;
  return { bytes: Number(m.used_bytes - s.bytes), messages: m.message_count - s.n };
}
