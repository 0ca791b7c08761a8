import { simpleParser, type ParsedMail } from 'mailparser';
import { parseMessageDate } from '@mailroom/rules';
import type { MailStore, ParseResult } from '@mailroom/mailstore';
import { searchText } from './search-text';

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
 * 'pending', bounded by size and time. The result fills has_attachments, sent_at and the IMAP
 * SEARCH text (search_headers, search_body); a message that cannot be parsed is marked
 * 'failed' with the reason, never lost. Rows are claimed with
 * FOR UPDATE SKIP LOCKED, so two workers never parse the same message. A parse result is not a
 * change a mail client sees, so it takes no new modseq.
 */
export async function parsePendingMessages(store: MailStore, limits: ParseLimits = PARSE_DEFAULTS) {
  return store.transaction(
    async (tx) => {
      const rows = await store.claimPendingParses(tx, limits.batch, limits.maxBytes);
      let parsed = 0;
      let failed = 0;
      for (const row of rows) {
        let result: ParseResult;
        try {
          result = await parseOne(row.bytes, limits.timeoutMs);
          parsed++;
        } catch (err) {
          result = { status: 'failed', error: (err instanceof Error ? err.message : String(err)).slice(0, 500) };
          failed++;
        }
        await store.recordParse(tx, row.tenantId, row.id, result);
      }
      return { examined: rows.length, parsed, failed };
    },
    { timeoutMs: limits.batch * limits.timeoutMs + 30_000 },
  );
}

/** What one message's MIME structure says; a message over the size limit (no bytes) says nothing. */
async function parseOne(bytes: Buffer | null, timeoutMs: number): Promise<ParseResult> {
  const data = bytes
    ? await withTimeout(
        simpleParser(bytes, { skipHtmlToText: true, skipTextToHtml: true, skipImageLinks: true }),
        timeoutMs,
      )
    : null;
  return {
    status: 'parsed',
    hasAttachments: data ? data.attachments.some((a) => a.contentDisposition === 'attachment' || !!a.filename) : null,
    sentAt: data ? parseMessageDate(dateHeader(data)) : null,
    search: data ? searchText(data) : null,
  };
}

/** The first Date field as written (mailparser's own date takes forms RFC 5322 does not). */
function dateHeader(data: ParsedMail): string | undefined {
  const line = data.headerLines.find((h) => h.key === 'date')?.line;
  return line === undefined ? undefined : line.slice(line.indexOf(':') + 1).replace(/\r?\n/g, '');
}
