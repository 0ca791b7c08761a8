import { parseAddressList } from './address-list';
import { type HeaderMap } from './header-map';

export interface VacationSettings {
  enabled: boolean;
  /** Inclusive; null means already started. */
  startsAt: Date | null;
  /** Exclusive; null means open-ended. */
  endsAt: Date | null;
  /** At most one reply per sender per this many days; values under 1 count as 1. */
  intervalDays: number;
}

export interface AutoReplyInput {
  vacation: VacationSettings;
  now: Date;
  /** When this mailbox last auto-replied to this sender (keyed by {@link vacationSenderKey}). */
  lastRepliedAt: Date | null;
  /** SMTP MAIL FROM; '' or '<>' for the null sender. */
  envelopeFrom: string;
  headers: HeaderMap;
  /** The mailbox's own addresses: its address and its aliases. */
  recipientAddresses: readonly string[];
}

export type AutoReplySkipReason =
  | 'disabled'
  | 'not-started'
  | 'ended'
  | 'null-sender'
  | 'system-sender'
  | 'own-address'
  | 'auto-submitted'
  | 'bulk-precedence'
  | 'mailing-list'
  | 'auto-reply-suppressed'
  | 'not-addressed-to-mailbox'
  | 'recently-replied';

export type AutoReplyDecision = { reply: true } | { reply: false; reason: AutoReplySkipReason };

const DAY_MS = 86_400_000;

// Local parts that belong to software, not people: bounces, list managers, no-reply senders.
const SYSTEM_LOCAL_PARTS = new Set([
  'mailer-daemon',
  'postmaster',
  'listserv',
  'majordomo',
  'mailman',
  'noreply',
  'no-reply',
  'donotreply',
  'do-not-reply',
]);

function bareAddress(envelopeFrom: string): string {
  return envelopeFrom
    .trim()
    .replace(/^<(.*)>$/, '$1')
    .trim();
}

/** The key to store and look up `lastRepliedAt` by: the envelope sender, lower-cased. */
export function vacationSenderKey(envelopeFrom: string): string {
  return bareAddress(envelopeFrom).toLowerCase();
}

function isSystemSender(address: string): boolean {
  const at = address.lastIndexOf('@');
  const local = (at < 0 ? address : address.slice(0, at)).toLowerCase();
  return (
    SYSTEM_LOCAL_PARTS.has(local) ||
    local.startsWith('owner-') ||
    local.endsWith('-owner') ||
    local.endsWith('-request') ||
    // Mailman bounce addresses, also with a VERP suffix (list-bounces+user=host@...).
    /-bounces(\+|$)/.test(local)
  );
}

// Sub-addresses reach the same mailbox, so user+tag@x counts as user@x.
function comparable(address: string): string {
  const lower = address.toLowerCase();
  const at = lower.lastIndexOf('@');
  if (at < 0) {
    return lower;
  }
  const local = lower.slice(0, at);
  const plus = local.indexOf('+');
  return (plus > 0 ? local.slice(0, plus) : local) + lower.slice(at);
}

function firstToken(value: string): string {
  return (value.split(/[;(\s]/)[0] ?? '').toLowerCase();
}

function headerReason(headers: HeaderMap): AutoReplySkipReason | null {
  // RFC 3834 §2 and §5: anything other than `Auto-Submitted: no` was sent by software.
  if (headers.getAll('auto-submitted').some((v) => firstToken(v.trim()) !== 'no')) {
    return 'auto-submitted';
  }
  if (headers.getAll('precedence').some((v) => ['bulk', 'list', 'junk'].includes(firstToken(v.trim())))) {
    return 'bulk-precedence';
  }
  // RFC 2919 List-Id and RFC 2369 List-* fields: list traffic, where a reply reaches everyone.
  if (['list-id', 'list-unsubscribe', 'list-post'].some((name) => headers.has(name))) {
    return 'mailing-list';
  }
  // Exchange's suppression field (MS-OXCMAIL): All or OOF asks for no out-of-office reply.
  if (headers.getAll('x-auto-response-suppress').some((v) => /\b(all|oof)\b/i.test(v))) {
    return 'auto-reply-suppressed';
  }
  return null;
}

function addressedToUs(headers: HeaderMap, ours: readonly string[]): boolean {
  const mine = new Set(ours.map(comparable));
  const listed = [...headers.getAll('to'), ...headers.getAll('cc')].flatMap(parseAddressList);
  return listed.some((a) => mine.has(comparable(a.address)));
}

/**
 * Decides whether a vacation auto-reply goes out, following RFC 3834. Checks, in this order:
 * enabled and inside [startsAt, endsAt); a real sender to reply to (§2: never to the null
 * sender, and not to MAILER-DAEMON, postmaster, owner-*, *-request, *-bounces or no-reply
 * senders, nor to ourselves); no sign of automated or list mail (`Auto-Submitted` other than
 * `no`, `Precedence: bulk|list|junk`, List-Id/List-Unsubscribe/List-Post,
 * `X-Auto-Response-Suppress: All|OOF`); one of our addresses in To or Cc (§2: a personal
 * responder should not answer Bcc or list copies); and no reply to this sender within
 * `intervalDays` (§2 recommends 7 days by default; RFC 5230 §4.1 sets a 1 day minimum).
 */
export function shouldAutoReply(input: AutoReplyInput): AutoReplyDecision {
  const { vacation, now } = input;
  const no = (reason: AutoReplySkipReason): AutoReplyDecision => ({ reply: false, reason });
  if (!vacation.enabled) {
    return no('disabled');
  }
  if (vacation.startsAt && now < vacation.startsAt) {
    return no('not-started');
  }
  if (vacation.endsAt && now >= vacation.endsAt) {
    return no('ended');
  }
  const sender = bareAddress(input.envelopeFrom);
  if (sender === '') {
    return no('null-sender');
  }
  if (isSystemSender(sender)) {
    return no('system-sender');
  }
  if (input.recipientAddresses.some((a) => comparable(a) === comparable(sender))) {
    return no('own-address');
  }
  const fromHeaders = headerReason(input.headers);
  if (fromHeaders) {
    return no(fromHeaders);
  }
  if (!addressedToUs(input.headers, input.recipientAddresses)) {
    return no('not-addressed-to-mailbox');
  }
  const interval = Math.max(1, vacation.intervalDays) * DAY_MS;
  if (input.lastRepliedAt && now.getTime() - input.lastRepliedAt.getTime() < interval) {
    return no('recently-replied');
  }
  return { reply: true };
}

export interface AutoReplyHeaders {
  'Auto-Submitted': 'auto-replied';
  'X-Auto-Response-Suppress': 'All';
  Subject: string;
  'In-Reply-To'?: string;
  References?: string;
}

function messageIds(value: string | undefined): string[] {
  return value?.match(/<[^<>\s]+>/g) ?? [];
}

// Header values are written into the reply verbatim: a CR or LF would inject header fields.
function oneLine(value: string): string {
  return value
    .replace(/[\p{Cc}]+/gu, ' ')
    .replace(/\s+/g, ' ')
    .trim();
}

/**
 * The header fields an auto-reply must carry (RFC 3834 §3.1): `Auto-Submitted: auto-replied`
 * so other responders do not answer it (§5), `In-Reply-To` and `References` threading it under
 * the original (RFC 5322 §3.6.4), and a Subject: the configured one, else `Auto: ` and the
 * original subject. `X-Auto-Response-Suppress: All` keeps Exchange from answering the answer.
 * Send the reply to the envelope sender (§4), from the mailbox, with the null sender `<>` as
 * its own MAIL FROM (RFC 5230 §5.1) so that nothing bounces back to it.
 */
export function buildAutoReplyHeaders(input: {
  originalHeaders: HeaderMap;
  configuredSubject?: string | null;
}): AutoReplyHeaders {
  const original = input.originalHeaders;
  const configured = oneLine(input.configuredSubject ?? '');
  const headers: AutoReplyHeaders = {
    'Auto-Submitted': 'auto-replied',
    'X-Auto-Response-Suppress': 'All',
    Subject: configured || oneLine(`Auto: ${original.get('subject') ?? ''}`),
  };
  const messageId = messageIds(original.get('message-id'))[0];
  if (messageId) {
    headers['In-Reply-To'] = messageId;
    // The parent's References, or its single In-Reply-To id, then the parent itself.
    const parentRefs = messageIds(original.get('references'));
    const inReplyTo = messageIds(original.get('in-reply-to'));
    const chain = parentRefs.length > 0 ? parentRefs : inReplyTo.length === 1 ? inReplyTo : [];
    headers.References = [...chain, messageId].join(' ');
  }
  return headers;
}
