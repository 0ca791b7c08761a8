import { parseAddressList, type MailAddress } from './address-list';
import { HeaderMap, splitHeaderFields } from './header-map';
import { decodeEncodedWords } from './rfc2047';
import { stripComments } from './header-comments';

/** Result values of RFC 8601 §2.7.1 (DKIM), §2.7.2 (SPF) and RFC 7489 §11.2 (DMARC), merged. */
export const AUTH_RESULTS = ['pass', 'fail', 'softfail', 'neutral', 'none', 'temperror', 'permerror'] as const;
export type AuthResult = (typeof AUTH_RESULTS)[number];

export const SPAM_VERDICTS = ['ham', 'spam'] as const;
export type SpamVerdict = (typeof SPAM_VERDICTS)[number];

export interface AuthResults {
  spf: AuthResult;
  dkim: AuthResult;
  dmarc: AuthResult;
}

/** What filter rules look at: a parsed message without its body. */
export interface MessageSummary {
  /** Every header field, RFC 2047 decoded, by case-insensitive name. */
  headers: HeaderMap;
  from: MailAddress[];
  to: MailAddress[];
  cc: MailAddress[];
  /** Decoded subject; '' when there is none. */
  subject: string;
  /** Size of the whole message in bytes. */
  size: number;
  hasAttachment: boolean;
  /** `null` when the message was not scored. */
  spamScore: number | null;
  spamVerdict: SpamVerdict | null;
  /** `none` for a method that was not evaluated. */
  auth: AuthResults;
}

export interface SummaryExtras {
  /** Default: guessed from a top-level `multipart/mixed` Content-Type, as mail clients do. */
  hasAttachment?: boolean;
  spamScore?: number | null;
  spamVerdict?: SpamVerdict | null;
  /** Verdicts computed by our MTA; they win over any Authentication-Results header. */
  auth?: Partial<AuthResults>;
  /**
   * Our own authserv-id (the MX host name). When set, SPF/DKIM/DMARC results not given in
   * `auth` are read from the topmost Authentication-Results field carrying that id. Without it
   * the field is ignored: anyone can write one, and RFC 8601 §5 says to trust only our own.
   */
  trustedAuthservId?: string;
}

const AUTH_METHODS = ['spf', 'dkim', 'dmarc'] as const;

function isAuthResult(value: string): value is AuthResult {
  return (AUTH_RESULTS as readonly string[]).includes(value);
}

/**
 * Reads spf/dkim/dmarc from an RFC 8601 Authentication-Results value. A method reported several
 * times (one DKIM result per signature) counts as `pass` when any instance passed, otherwise as
 * its first result.
 */
function parseAuthenticationResults(value: string): Partial<AuthResults> {
  const body = stripComments(value);
  const found: Partial<AuthResults> = {};
  for (const m of body.matchAll(/(?:^|[;\s])(spf|dkim|dmarc)\s*=\s*([a-z]+)/gi)) {
    const method = (m[1] ?? '').toLowerCase() as keyof AuthResults;
    const result = (m[2] ?? '').toLowerCase();
    if (isAuthResult(result) && (found[method] === undefined || result === 'pass')) {
      found[method] = result;
    }
  }
  return found;
}

function trustedAuthResults(raw: Array<[string, string]>, authservId: string | undefined): Partial<AuthResults> {
  if (!authservId) {
    return {};
  }
  const id = authservId.toLowerCase();
  for (const [name, value] of raw) {
    // authserv-id, optionally followed by a version, before the first `;` (RFC 8601 §2.2).
    const head = stripComments(value.split(';')[0] ?? '').trim();
    if (name.toLowerCase() === 'authentication-results' && head.split(/\s+/)[0]?.toLowerCase() === id) {
      return parseAuthenticationResults(value.slice(value.indexOf(';') + 1));
    }
  }
  return {};
}

function addressesOf(raw: Array<[string, string]>, field: string): MailAddress[] {
  return raw.filter(([name]) => name.toLowerCase() === field).flatMap(([, value]) => parseAddressList(value));
}

/**
 * Builds a {@link MessageSummary} from raw RFC 5322 header lines (the message itself may be
 * passed: parsing stops at the blank line), for `POST .../filters/test` and anywhere no parsed
 * message is at hand. Folded lines are unfolded, unstructured values RFC 2047 decoded, and
 * From/To/Cc parsed before decoding so an encoded comma in a display name cannot split an
 * address. Spam results and (unless `trustedAuthservId` is given) authentication results are
 * not in the headers we trust, so they come from `extras`.
 */
export function messageSummaryFromHeaders(
  rawHeaderText: string,
  size: number,
  extras: SummaryExtras = {},
): MessageSummary {
  const raw = splitHeaderFields(rawHeaderText);
  const headers = new HeaderMap(raw.map(([name, value]) => [name, decodeEncodedWords(value)] as const));
  const contentType = headers.get('content-type') ?? '';
  return {
    headers,
    from: addressesOf(raw, 'from'),
    to: addressesOf(raw, 'to'),
    cc: addressesOf(raw, 'cc'),
    subject: headers.get('subject') ?? '',
    size,
    hasAttachment: extras.hasAttachment ?? /^\s*multipart\/mixed\b/i.test(contentType),
    spamScore: extras.spamScore ?? null,
    spamVerdict: extras.spamVerdict ?? null,
    auth: { ...defaultAuth(), ...trustedAuthResults(raw, extras.trustedAuthservId), ...definedOnly(extras.auth) },
  };
}

function defaultAuth(): AuthResults {
  return { spf: 'none', dkim: 'none', dmarc: 'none' };
}

function definedOnly(auth: Partial<AuthResults> | undefined): Partial<AuthResults> {
  const out: Partial<AuthResults> = {};
  for (const method of AUTH_METHODS) {
    const value = auth?.[method];
    if (value !== undefined) {
      out[method] = value;
    }
  }
  return out;
}
