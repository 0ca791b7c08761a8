import { domainToASCII } from 'node:url';

/** An address split and normalized for lookups: local part lower-cased, domain in punycode. */
export interface MailAddress {
  /** The local part as written (case kept, for display and for delivery to other hosts). */
  localPart: string;
  /** Lower-cased local part: hosted mailboxes are case-insensitive, as at every large provider. */
  localKey: string;
  /** The domain, lower-case ASCII (punycode for IDN). */
  domain: string;
  /** `localPart@domain`. */
  address: string;
}

export type AddressResult = { ok: true; value: MailAddress } | { ok: false; message: string };

// RFC 5321 §4.1.2 Dot-string: atoms of atext joined by single dots.
const ATEXT = "A-Za-z0-9!#$%&'*+\\-/=?^_`{|}~";
const DOT_ATOM = new RegExp(`^[${ATEXT}]+(\\.[${ATEXT}]+)*$`);
// The same with any non-ASCII character allowed (RFC 6531 §3.3 UTF8-non-ascii).
const DOT_ATOM_UTF8 = new RegExp(`^[${ATEXT}\\u0080-\\u{10FFFF}]+(\\.[${ATEXT}\\u0080-\\u{10FFFF}]+)*$`, 'u');

/**
 * Checks a local part: RFC 5321 dot-atom (no quoted strings: almost no client handles them),
 * at most 64 octets (RFC 5321 §4.5.3.1.1). Non-ASCII is refused unless SMTPUTF8 is allowed.
 */
export function checkLocalPart(local: string, options: { smtputf8?: boolean } = {}): string | null {
  if (local.length === 0) return 'the local part (before @) is empty';
  if (Buffer.byteLength(local, 'utf8') > 64) return 'the local part (before @) is longer than 64 octets';
  // eslint-disable-next-line no-control-regex -- the check is for non-ASCII on purpose
  const ascii = /^[\x00-\x7f]*$/.test(local);
  if (!ascii && !options.smtputf8) {
    return 'non-ASCII characters before @ need SMTPUTF8, which this tenant has not enabled (many mail clients cannot handle such addresses)';
  }
  if (local.startsWith('.') || local.endsWith('.') || local.includes('..')) {
    return 'the local part (before @) may not start or end with a dot or contain two dots in a row';
  }
  if (!(ascii ? DOT_ATOM : DOT_ATOM_UTF8).test(local)) {
    return "the local part (before @) may contain only letters, digits and ! # $ % & ' * + - / = ? ^ _ ` { | } ~ .";
  }
  return null;
}

/** A domain as lower-case ASCII (punycode), or null when it is not a valid host name. */
export function asciiDomain(input: string): string | null {
  const trimmed = input.trim().replace(/\.$/, '');
  if (trimmed === '' || trimmed.length > 253) return null;
  const ascii = domainToASCII(trimmed.toLowerCase());
  if (!ascii || ascii.length > 253) return null;
  const labels = ascii.split('.');
  if (labels.length < 2) return null;
  const ok = labels.every((l) => /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/.test(l));
  return ok ? ascii : null;
}

/** Parses `local@domain` (no display name, no angle brackets). */
export function parseMailAddress(input: string, options: { smtputf8?: boolean } = {}): AddressResult {
  const text = input.trim();
  const at = text.lastIndexOf('@');
  if (at <= 0 || at === text.length - 1) return { ok: false, message: 'must be an address like name@example.com' };
  const localPart = text.slice(0, at);
  const problem = checkLocalPart(localPart, options);
  if (problem) return { ok: false, message: problem };
  const domain = asciiDomain(text.slice(at + 1));
  if (!domain) return { ok: false, message: `"${text.slice(at + 1)}" is not a valid domain` };
  return {
    ok: true,
    value: { localPart, localKey: localPart.toLowerCase(), domain, address: `${localPart}@${domain}` },
  };
}
