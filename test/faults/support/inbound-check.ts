import type { PrismaClient } from '@mailroom/db';
import type { Outcome } from '@test/faults/support/smtp-burst';

export interface InboundAudit {
  /** Distinct messages with at least one stored copy. */
  stored: number;
  /** Never acknowledged, yet stored for some of the recipients only: must be 0. */
  partial: number;
  /** Messages not stored for every recipient they were sent to (after all retries: must be 0). */
  incomplete: number;
  /** Copies beyond one per (message, recipient). */
  duplicates: number;
  /** (message, recipient) pairs that got 250 and are not in the database: must be 0. */
  lost: number;
  /** Mailboxes whose used_bytes / message_count disagree with their rows: must be 0. */
  quotaDrift: number;
  /** copies.get(index).get(localPart) = rows. */
  copies: Map<number, Map<string, number>>;
}

/**
 * Reads what the database holds for a burst's messages and holds it against the client ledger:
 * every acknowledged (message, recipient) is there, nothing is there twice, no message is there
 * for only some of the recipients one transaction carried, and each mailbox's quota counters
 * equal the sum of its rows (the same transaction writes both).
 */
export async function auditInbound(
  prisma: PrismaClient,
  tenantId: string,
  expected: { index: number; recipients: string[] }[],
  acknowledged: Iterable<Outcome>,
): Promise<InboundAudit> {
  const rows = await prisma.$queryRaw<{ subject: string; local_part: string; n: number }[]>`
    SELECT m.subject, mb.local_part, count(*)::int AS n
    FROM messages m JOIN mailboxes mb ON mb.tenant_id = m.tenant_id AND mb.id = m.mailbox_id
    WHERE m.tenant_id = ${tenantId}::uuid AND m.subject LIKE 'burst %'
    GROUP BY 1, 2`;
  const copies = new Map<number, Map<string, number>>();
  let duplicates = 0;
  for (const r of rows) {
    const index = Number(r.subject.slice('burst '.length));
    const perRecipient = copies.get(index) ?? new Map<string, number>();
    perRecipient.set(r.local_part, r.n);
    copies.set(index, perRecipient);
    duplicates += r.n - 1;
  }
  const outcomes = [...acknowledged];
  const acked = new Set(outcomes.filter((o) => o.code === 250).map((o) => o.index));
  let partial = 0;
  let incomplete = 0;
  for (const job of expected) {
    const stored = copies.get(job.index)?.size ?? 0;
    if (stored !== job.recipients.length) incomplete++;
    // One transaction commits all of its recipients or none of them.
    if (!acked.has(job.index) && stored > 0 && stored !== job.recipients.length) partial++;
  }
  let lost = 0;
  for (const o of outcomes) {
    if (o.code !== 250) continue;
    for (const rcpt of o.accepted) if (!copies.get(o.index)?.get(rcpt.split('@')[0]!)) lost++;
  }
  const drift = await prisma.$queryRaw<{ n: number }[]>`
    SELECT count(*)::int AS n FROM mailboxes mb
    LEFT JOIN (SELECT tenant_id, mailbox_id, sum(size) AS bytes, count(*) AS c FROM messages GROUP BY 1, 2) s
      ON s.tenant_id = mb.tenant_id AND s.mailbox_id = mb.id
    WHERE mb.tenant_id = ${tenantId}::uuid
      AND (mb.used_bytes <> COALESCE(s.bytes, 0) OR mb.message_count <> COALESCE(s.c, 0))`;
  return { stored: copies.size, partial, incomplete, duplicates, lost, quotaDrift: drift[0]!.n, copies };
}
