/**
 * DSN parameters of MAIL FROM and RCPT TO (RFC 3461 §4). smtp-server already decodes xtext,
 * refuses control characters, checks RET and NOTIFY values and ORCPT's `type;value` shape;
 * these functions make the rest of the RFC's rules and return what we store, or the sentence
 * of a 501 5.5.4 reply.
 */
export type ParamArgs = Readonly<Record<string, string | boolean | undefined>> | false | undefined;

export interface MailDsn {
  /** RET: how much of the message a DSN returns; null when not given. */
  ret: 'FULL' | 'HDRS' | null;
  /** ENVID, decoded; null when not given. */
  envid: string | null;
}

export interface RcptDsn {
  /** NOTIFY tokens upper-cased; empty when not given. */
  notify: string[];
  /** `rfc822;address` (decoded), or null when not given. */
  orcpt: string | null;
}

export type DsnResult<T> = { ok: true; value: T } | { ok: false; error: string };

// RFC 3461 §4.4: ENVID is at most 100 characters of xtext, which decodes to printable ASCII.
const MAX_ENVID = 100;
const PRINTABLE = /^[\x21-\x7e]+$/;
const NOTIFY_TOKENS = new Set(['SUCCESS', 'FAILURE', 'DELAY']);
// RFC 3461 §4.2: ORCPT's value is at most 500 characters.
const MAX_ORCPT = 500;

function text(args: ParamArgs, key: string): string | null | undefined {
  if (!args || args[key] === undefined) return null;
  const value = args[key];
  return typeof value === 'string' ? value : undefined;
}

/** RET and ENVID of MAIL FROM. */
export function parseMailDsn(args: ParamArgs): DsnResult<MailDsn> {
  const ret = text(args, 'RET');
  const envid = text(args, 'ENVID');
  if (ret === undefined) return { ok: false, error: 'RET needs a value: RET=FULL or RET=HDRS' };
  if (envid === undefined) return { ok: false, error: 'ENVID needs a value' };
  const upper = ret?.toUpperCase() ?? null;
  if (upper !== null && upper !== 'FULL' && upper !== 'HDRS') {
    return { ok: false, error: 'RET must be FULL or HDRS (RFC 3461 section 4.3)' };
  }
  if (envid !== null && (envid.length > MAX_ENVID || !PRINTABLE.test(envid))) {
    return { ok: false, error: 'ENVID must be at most 100 printable ASCII characters (RFC 3461 section 4.4)' };
  }
  return { ok: true, value: { ret: upper, envid } };
}

/** NOTIFY and ORCPT of RCPT TO. */
export function parseRcptDsn(args: ParamArgs): DsnResult<RcptDsn> {
  const notify = text(args, 'NOTIFY');
  const orcpt = text(args, 'ORCPT');
  if (notify === undefined) return { ok: false, error: 'NOTIFY needs a value: NEVER, or SUCCESS, FAILURE, DELAY' };
  if (orcpt === undefined) return { ok: false, error: 'ORCPT needs a value: rfc822;address' };
  const tokens = notify === null ? [] : notify.toUpperCase().split(',');
  const never = tokens.includes('NEVER');
  if ((never && tokens.length > 1) || (!never && tokens.some((t) => !NOTIFY_TOKENS.has(t)))) {
    return {
      ok: false,
      error: 'NOTIFY must be NEVER, or a list of SUCCESS, FAILURE and DELAY (RFC 3461 section 4.1)',
    };
  }
  if (new Set(tokens).size !== tokens.length) return { ok: false, error: 'NOTIFY names a value twice' };
  if (orcpt === null) return { ok: true, value: { notify: tokens, orcpt: null } };
  const semi = orcpt.indexOf(';');
  const type = orcpt.slice(0, semi).toLowerCase();
  const address = orcpt.slice(semi + 1);
  if (semi < 1 || type !== 'rfc822') {
    return { ok: false, error: 'ORCPT must be rfc822;<address>: other address types are not supported' };
  }
  if (orcpt.length > MAX_ORCPT || !/^[^\s@]+@[^\s@]+$/.test(address) || !PRINTABLE.test(address)) {
    return { ok: false, error: 'ORCPT must be rfc822; followed by an email address (RFC 3461 section 4.2)' };
  }
  return { ok: true, value: { notify: tokens, orcpt: `rfc822;${address}` } };
}
