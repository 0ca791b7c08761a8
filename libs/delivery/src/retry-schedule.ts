/**
 * When to try a deferred delivery again: the n-th step of the schedule after the n-th failed
 * attempt, the last step repeating (default 5m, 15m, 30m, 1h, 2h, 4h, then every 4h), as
 * Postfix's queue does. Returns null once the next attempt would fall after `expiresAt`: the
 * delivery then gives up and bounces.
 */
export function nextAttemptAt(
  attempts: number,
  scheduleMs: readonly number[],
  now: Date,
  expiresAt: Date,
): Date | null {
  if (scheduleMs.length === 0) return null;
  const step = scheduleMs[Math.min(Math.max(attempts, 1), scheduleMs.length) - 1]!;
  const next = new Date(now.getTime() + step);
  return next > expiresAt ? null : next;
}

/** What an SMTP reply (or its absence) means for a recipient. */
export type ReplyClass = 'delivered' | 'deferred' | 'bounced';

export function classifyReply(code: number | undefined): ReplyClass {
  if (code === undefined) return 'deferred';
  if (code >= 200 && code < 300) return 'delivered';
  if (code >= 500 && code < 600) return 'bounced';
  return 'deferred';
}

/** The enhanced status code (RFC 3463) at the start of a reply's text, if any. */
export function enhancedCode(response: string | undefined): string | null {
  const match =
    /^\d{3}[ -](\d\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '') ?? /\b([245]\.\d{1,3}\.\d{1,3})\b/.exec(response ?? '');
  return match?.[1] ?? null;
}
