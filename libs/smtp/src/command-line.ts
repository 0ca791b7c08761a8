/**
 * The longest command line we take, in octets without the CRLF. RFC 5321 §4.5.3.1.4 allows
 * 512 with it; service extensions add room for their parameters on MAIL and RCPT: SIZE (RFC 1870
 * §3, 26), BODY (RFC 6152, 14), SMTPUTF8 (RFC 6531, 10), RET and ENVID (RFC 3461 §4, 118) on
 * MAIL; NOTIFY and ORCPT (RFC 3461 §4, 500) on RCPT. AUTH carries SASL data of any length
 * (RFC 4954 §4), bounded only by the server's hard limit.
 */
export const COMMAND_LINE_OCTETS = 510;
const MAIL_EXTRA = 26 + 14 + 10 + 118;
const RCPT_EXTRA = 500;

/** The limit for a command line, or null for none of ours (the server's hard limit applies). */
export function commandLineLimit(line: Buffer | string): number | null {
  const text = typeof line === 'string' ? line : line.subarray(0, 8).toString('latin1');
  const verb = /^[A-Za-z]+/.exec(text)?.[0]?.toUpperCase() ?? '';
  switch (verb) {
    case 'AUTH':
      return null;
    case 'MAIL':
      return COMMAND_LINE_OCTETS + MAIL_EXTRA;
    case 'RCPT':
      return COMMAND_LINE_OCTETS + RCPT_EXTRA;
    default:
      return COMMAND_LINE_OCTETS;
  }
}

/** True when a command line (without its CRLF) is longer than its limit. */
export function isCommandTooLong(line: Buffer): boolean {
  const limit = commandLineLimit(line);
  return limit !== null && line.length > limit;
}
