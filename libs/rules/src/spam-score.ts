import type { AuthResult, MessageSummary } from './message-summary';

/** One reason that added to (or took from) a message's score. */
export interface SpamRuleHit {
  rule: string;
  score: number;
}

export interface SpamScore {
  score: number;
  hits: SpamRuleHit[];
}

export interface SpamInput {
  auth: { spf: AuthResult; dkim: AuthResult; dmarc: AuthResult };
  /** DMARC policy of the From domain when DMARC failed. */
  dmarcPolicy: string | null;
  /** DNSBL zones that list the client. */
  dnsbl: readonly string[];
  summary: MessageSummary;
  now: Date;
}

// Weights in the spirit of SpamAssassin's defaults: authentication failures and blocklists
// count most, header anomalies a little each, so only several together reach the thresholds.
const WEIGHTS = {
  SPF_FAIL: 3,
  SPF_SOFTFAIL: 1.5,
  DKIM_FAIL: 2,
  DMARC_FAIL: 3,
  DMARC_FAIL_REJECT_POLICY: 3,
  DNSBL_LISTED: 6,
  MISSING_FROM: 3,
  MULTIPLE_FROM: 3,
  MISSING_DATE: 1,
  MISSING_MESSAGE_ID: 1,
  DATE_IN_FUTURE: 1.5,
  DMARC_PASS: -1,
} as const;

const DAY_MS = 86_400_000;

/**
 * The spam score of a message from what the session knows without reading the body:
 * authentication results, DNSBL listings and header anomalies. Pure, so the table of cases in
 * spam-score.spec.ts pins every weight.
 */
export function scoreMessage(input: SpamInput): SpamScore {
  const hits: SpamRuleHit[] = [];
  const add = (rule: keyof typeof WEIGHTS) => hits.push({ rule, score: WEIGHTS[rule] });
  const { auth, summary } = input;
  if (auth.spf === 'fail') add('SPF_FAIL');
  if (auth.spf === 'softfail') add('SPF_SOFTFAIL');
  if (auth.dkim === 'fail') add('DKIM_FAIL');
  if (auth.dmarc === 'fail') add('DMARC_FAIL');
  if (auth.dmarc === 'fail' && input.dmarcPolicy === 'reject') add('DMARC_FAIL_REJECT_POLICY');
  if (auth.dmarc === 'pass') add('DMARC_PASS');
  for (let i = 0; i < input.dnsbl.length; i++) add('DNSBL_LISTED');
  const fromFields = summary.headers.getAll('from').length;
  if (fromFields === 0 || summary.from.length === 0) add('MISSING_FROM');
  if (fromFields > 1) add('MULTIPLE_FROM');
  const date = summary.headers.get('date');
  if (!date) add('MISSING_DATE');
  else if (Date.parse(date) - input.now.getTime() > DAY_MS) add('DATE_IN_FUTURE');
  if (!summary.headers.get('message-id')) add('MISSING_MESSAGE_ID');
  const score = Math.round(hits.reduce((sum, h) => sum + h.score, 0) * 10) / 10;
  return { score, hits };
}

/** X-Spam-* header fields (SpamAssassin's names, which mail clients and filters know). */
export function spamHeaders(result: SpamScore, junkThreshold: number, hostname: string): string {
  const spam = result.score >= junkThreshold;
  const tests = result.hits.map((h) => h.rule).join(',') || 'none';
  return (
    `X-Spam-Flag: ${spam ? 'YES' : 'NO'}\r\n` +
    `X-Spam-Score: ${result.score.toFixed(1)}\r\n` +
    `X-Spam-Status: ${spam ? 'Yes' : 'No'}, score=${result.score.toFixed(1)} required=${junkThreshold.toFixed(1)}\r\n` +
    `\ttests=${tests} scanner=${hostname}\r\n`
  );
}
