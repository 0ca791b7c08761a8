import { simpleParser } from 'mailparser';
import type { PrismaClient } from '@mailroom/db';

export interface ParseLimits {
  /** Messages per run. */
  batch: number;
  /** Larger messages are not parsed in full: their attachment flag comes from the top-level type. */
  maxBytes: number;
  /** A message whose parse takes longer is marked failed (kept, readable, just not indexed). */
  timeoutMs: number;
}

export const PARSE_DEFAULTS: ParseLimits = { batch: 50, maxBytes: 25 * 1024 * 1024, timeoutMs: 5_000 };

function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  // A budget of zero is already spent: fail without racing a timer the work might win.
  if (ms <= 0) {
    work.catch(() => undefined);
    return Promise.reject(new Error(`parsing took longer than ${ms} ms`));
  }
  let timer: NodeJS.Timeout | undefined;
  return Promise.race([
    work,
    new Promise<T>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`parsing took longer than ${ms} ms`)), ms);
    }),
  ]).finally(() => clearTimeout(timer));
}

/**
 * The heavy content work the MTA leaves for after commit: full MIME parsing of messages still
 * 'pending', bounded by size and time. The result fills has_attachments and sent_at; a message
 * that cannot be parsed is marked 'failed' with the reason, never lost. Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so two workers never parse the same message.
 */
export async function parsePendingMessages(prisma: PrismaClient, limits: ParseLimits = PARSE_DEFAULTS) {
  return prisma.$transaction(
    async (tx) => {
      const rows = await tx.$queryRaw<{ tenant_id: string; id: string; size: number; bytes: Uint8Array | null }[]>`
        SELECT m.tenant_id, m.id, m.size, CASE WHEN m.size <= ${limits.maxBytes} THEN b.bytes END AS bytes
        FROM messages m JOIN message_blobs b ON b.tenant_id = m.tenant_id AND b.sha256 = m.blob_sha256
        WHERE m.parse_status = 'pending'
        ORDER BY m.parse_status, m.received_at
        LIMIT ${limits.batch}
        FOR UPDATE OF m SKIP LOCKED`;
      let parsed = 0;
      let failed = 0;
      for (const row of rows) {
        try {
          const data = row.bytes
            ? await withTimeout(
                simpleParser(Buffer.from(row.bytes), {
                  skipHtmlToText: true,
                  skipTextToHtml: true,
                  skipImageLinks: true,
                }),
                limits.timeoutMs,
              )
            : null;
          await tx.message.update({
            where: { tenantId_id: { tenantId: row.tenant_id, id: row.id } },
            data: {
              parseStatus: 'parsed',
              hasAttachments: data
                ? data.attachments.some((a) => a.contentDisposition === 'attachment' || !!a.filename)
                : null,
              ...(data?.date && !Number.isNaN(data.date.getTime()) ? { sentAt: data.date } : {}),
            },
          });
          parsed++;
        } catch (err) {
          await tx.message.update({
            where: { tenantId_id: { tenantId: row.tenant_id, id: row.id } },
            data: {
              parseStatus: 'failed',
              parseError: (err instanceof Error ? err.message : String(err)).slice(0, 500),
            },
          });
          failed++;
        }
      }
      return { examined: rows.length, parsed, failed };
    },
    { timeout: limits.batch * limits.timeoutMs + 30_000 },
  );
}
