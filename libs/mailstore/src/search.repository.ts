import { Prisma } from '@mailroom/db';
import type { SearchQuery } from './mailbox.types';
import type { StoreDb } from './types';

/**
 * IMAP SEARCH as one parameterised statement over the folder's visible messages; uids ascending.
 * Client values travel as bind parameters (Prisma.sql), never in the SQL text.
 */
export async function searchFolder(db: StoreDb, tenantId: string, folderId: string, query: SearchQuery) {
  const rows = await db.$queryRaw<{ uid: number }[]>(searchStatement(tenantId, folderId, query));
  return rows.map((r) => r.uid);
}

/** The SEARCH statement itself (tests EXPLAIN it). */
export function searchStatement(tenantId: string, folderId: string, query: SearchQuery): Prisma.Sql {
  return Prisma.sql`
    SELECT m.uid FROM messages m
    WHERE m.tenant_id = ${tenantId}::uuid AND m.folder_id = ${folderId}::uuid AND m.deleted_at IS NULL
      AND (${searchCondition(query)})
    ORDER BY m.uid`;
}

/**
 * The boolean SQL of a search key over `messages m`. Text keys are case-insensitive substring
 * matches (RFC 3501 6.4.4) through trigram indexes: SUBJECT and FROM on the header summary every
 * row has; any header on search_headers ("Name: value" lines, decoded) and BODY on search_body,
 * which the worker's parse fills. A row not parsed yet (search_headers null) is matched on its
 * raw blob instead, ASCII case-insensitively: encoded words and transfer encodings are not
 * decoded there, so such a row may be missed until its parse (seconds after delivery).
 */
export function searchCondition(q: SearchQuery): Prisma.Sql {
  switch (q.op) {
    case 'all':
      return Prisma.sql`true`;
    case 'and':
      return q.of.length === 0 ? Prisma.sql`true` : Prisma.sql`(${Prisma.join(q.of.map(searchCondition), ' AND ')})`;
    case 'or':
      return Prisma.sql`(${searchCondition(q.of[0])} OR ${searchCondition(q.of[1])})`;
    case 'not':
      return Prisma.sql`NOT COALESCE(${searchCondition(q.of)}, false)`;
    case 'uid':
      return Prisma.sql`EXISTS (SELECT 1 FROM unnest(${q.uids.map((r) => Math.min(r[0], r[1]))}::int[],
        ${q.uids.map((r) => Math.max(r[0], r[1]))}::int[]) AS r(lo, hi) WHERE m.uid BETWEEN r.lo AND r.hi)`;
    case 'flag':
      return flagCondition(q.flag, q.set);
    case 'header':
      return headerCondition(q.field, q.value);
    case 'body':
      return Prisma.sql`(m.search_body ILIKE ${likePattern(q.value)}
        OR (m.search_headers IS NULL AND ${rawContains('body', q.value)}))`;
    case 'text':
      return Prisma.sql`(m.search_headers ILIKE ${likePattern(q.value)} OR m.search_body ILIKE ${likePattern(q.value)}
        OR (m.search_headers IS NULL AND ${rawContains('all', q.value)}))`;
    case 'internaldate':
      return dateCondition(Prisma.sql`m.received_at`, q.cmp, q.date);
    case 'sentdate':
      return dateCondition(Prisma.sql`m.sent_at`, q.cmp, q.date);
    case 'size':
      return q.cmp === 'larger' ? Prisma.sql`m.size > ${q.bytes}` : Prisma.sql`m.size < ${q.bytes}`;
    case 'modseq':
      return Prisma.sql`m.modseq >= ${q.min}`;
  }
}

const SYSTEM_FLAGS = new Set(['\\Seen', '\\Answered', '\\Flagged', '\\Deleted', '\\Draft']);

/**
 * A flag test. System flags are written into the SQL text (one of five constants, never client
 * text) so that a generic plan still matches the partial index messages_unseen_idx, whose
 * predicate is NOT ('\Seen' = ANY(flags)): with a bind parameter the planner cannot prove it
 * and reads every row of the folder. Keywords stay bind parameters.
 */
function flagCondition(flag: string, set: boolean): Prisma.Sql {
  const value = SYSTEM_FLAGS.has(flag) ? Prisma.raw(`'${flag}'`) : Prisma.sql`${flag}`;
  return set ? Prisma.sql`(${value} = ANY(m.flags))` : Prisma.sql`NOT (${value} = ANY(m.flags))`;
}

/** HEADER field value: the field's line contains the value; an empty value asks for presence. */
function headerCondition(field: string, value: string): Prisma.Sql {
  const line = `(^|\\n)${escapeRegex(field)}:${value === '' ? '' : `[^\\n]*${escapeRegex(value)}`}`;
  const parsed = Prisma.sql`(m.search_headers ILIKE ${likePattern(value === '' ? `${field}:` : value)}
    AND m.search_headers ~* ${line})`;
  const raw = Prisma.sql`(m.search_headers IS NULL AND EXISTS (SELECT 1 FROM message_blobs b
    WHERE b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256 AND ${headerSection()} ~* ${line}))`;
  const name = field.toUpperCase();
  // The summary columns hold the decoded Subject and From of every row, parsed or not.
  if (name === 'SUBJECT' && value !== '') {
    return Prisma.sql`(m.subject ILIKE ${likePattern(value)} OR ${parsed} OR ${raw})`;
  }
  if (name === 'FROM' && value !== '') {
    return Prisma.sql`(m.from_address ILIKE ${likePattern(value)} OR m.from_name ILIKE ${likePattern(value)}
      OR ${parsed} OR ${raw})`;
  }
  return Prisma.sql`(${parsed} OR ${raw})`;
}

/** The header section of the blob as text (bytes above 0x7f escaped, so any message reads). */
function headerSection(): Prisma.Sql {
  return Prisma.sql`encode(substring(b.bytes FOR COALESCE(NULLIF(position('\\x0d0a0d0a'::bytea IN b.bytes), 0), octet_length(b.bytes))), 'escape')`;
}

function rawContains(part: 'body' | 'all', value: string): Prisma.Sql {
  const bytes =
    part === 'all'
      ? Prisma.sql`b.bytes`
      : Prisma.sql`substring(b.bytes FROM NULLIF(position('\\x0d0a0d0a'::bytea IN b.bytes), 0) + 4)`;
  return Prisma.sql`EXISTS (SELECT 1 FROM message_blobs b
    WHERE b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256 AND encode(${bytes}, 'escape') ILIKE ${likePattern(value)})`;
}

/** BEFORE/ON/SINCE compare dates only (RFC 3501 6.4.4), taken in UTC. */
function dateCondition(column: Prisma.Sql, cmp: 'before' | 'on' | 'since', date: string): Prisma.Sql {
  const day = Prisma.sql`(${date}::date::timestamp AT TIME ZONE 'UTC')`;
  if (cmp === 'before') return Prisma.sql`${column} < ${day}`;
  if (cmp === 'since') return Prisma.sql`${column} >= ${day}`;
  return Prisma.sql`(${column} >= ${day} AND ${column} < ${day} + interval '1 day')`;
}

export function likePattern(value: string): string {
  return `%${value.replace(/[\\%_]/g, (c) => `\\${c}`)}%`;
}

export function escapeRegex(value: string): string {
  return value.replace(/[\\^$.|?*+()[\]{}-]/g, (c) => `\\${c}`);
}
