import { Prisma } from '@mailroom/db';

/**
 * The PostgreSQL channel every folder change is announced on, inside the writing transaction
 * (so listeners hear it on commit, never before, and never for a rollback). Payload:
 * '<tenantId>:<mailboxId>:<folderId>:<modseq>'. IDLE sessions re-read from their modseq, so a
 * lost or folded notification costs latency, never a change.
 */
export const MAIL_CHANNEL = 'mailroom_mail';

/** One parsed notification of MAIL_CHANNEL. */
export interface MailNotification {
  tenantId: string;
  mailboxId: string;
  folderId: string;
  modseq: bigint;
}

/** Parses a MAIL_CHANNEL payload; null when it is not one. */
export function parseMailNotification(payload: string): MailNotification | null {
  const parts = payload.split(':');
  if (parts.length !== 4 || !/^\d+$/.test(parts[3]!)) return null;
  const [tenantId, mailboxId, folderId, modseq] = parts as [string, string, string, string];
  return { tenantId, mailboxId, folderId, modseq: BigInt(modseq) };
}

/**
 * The SQL expression that notifies, as text ('' once sent): pg_notify returns void, which the
 * driver cannot read back, so it is cast. Columns are SQL expressions of the caller's statement.
 */
export function notifyExpression(
  tenantId: Prisma.Sql,
  mailboxId: Prisma.Sql,
  folderId: Prisma.Sql,
  modseq: Prisma.Sql,
) {
  return Prisma.sql`pg_notify(${MAIL_CHANNEL}, ${tenantId}::text || ':' || ${mailboxId}::text || ':' || ${folderId}::text || ':' || ${modseq}::text)::text`;
}
