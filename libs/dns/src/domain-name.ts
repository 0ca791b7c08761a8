import { isIP } from 'node:net';
import { domainToASCII, domainToUnicode } from 'node:url';
import { parse as parseHostname } from 'tldts';

/** The result of {@link normalizeDomain}: the name to store and to show, or why it is refused. */
export type NormalizedDomain = { ok: true; ascii: string; unicode: string } | { ok: false; message: string };

export interface NormalizeDomainOptions {
  /** The platform's own domains (e.g. `mailroom.test`): neither they nor names under them may be added. */
  platformDomains: readonly string[];
}

// RFC 1035 §2.3.4: 63 octets a label, 255 octets on the wire, i.e. 253 characters in text form.
const MAX_LABEL = 63;
const MAX_NAME = 253;
// RFC 952 / RFC 1123 §2.1 (LDH): letters, digits, hyphens; no hyphen at either end of a label.
const LDH_LABEL = /^[a-z0-9](?:[a-z0-9-]*[a-z0-9])?$/;
// Names that can never receive Internet mail: special-use (RFC 6761 §6.3-6.4, RFC 6762 .local,
// RFC 7686 .onion), infrastructure (.arpa, RFC 3172) and ICANN's private-use .internal.
// `.test` and `.example` stay allowed: development and the test suites use them.
const RESERVED_TLDS = new Set(['localhost', 'local', 'invalid', 'onion', 'arpa', 'internal']);

/**
 * Validates a domain typed by a tenant and returns its stored form (punycode, lower case, no
 * trailing dot) and its display form (Unicode). Refuses IP addresses, malformed names, public
 * suffixes (ICANN and private sections of the Public Suffix List: `com`, `co.uk`, `github.io`)
 * and the platform's own domains and every name under them.
 */
export function normalizeDomain(input: string, options: NormalizeDomainOptions): NormalizedDomain {
  const trimmed = input.trim().replace(/\.$/, '');
  if (!trimmed) return refuse('Enter a domain name, such as example.com.');
  if (isIP(trimmed.replace(/^\[|\]$/g, '')) || /^[\d.]+$/.test(trimmed)) {
    return refuse(`"${input}" is an IP address; mail domains are names such as example.com.`);
  }
  if (trimmed.includes('..') || trimmed.startsWith('.')) return refuse(`"${input}" has an empty label.`);
  // UTS #46 processing (lower-cases, maps full-width dots, converts Unicode labels to A-labels);
  // it returns '' for names it cannot convert, such as invalid punycode or forbidden characters.
  const ascii = domainToASCII(trimmed).replace(/\.$/, '');
  if (!ascii) return refuse(`"${input}" is not a valid domain name.`);
  const shape = checkShape(ascii, input);
  if (shape) return refuse(shape);

  const parsed = parseHostname(ascii, { allowPrivateDomains: true });
  const tld = ascii.slice(ascii.lastIndexOf('.') + 1);
  if (RESERVED_TLDS.has(tld)) return refuse(`".${tld}" is a special-use name that cannot receive Internet mail.`);
  if (parsed.domain === null) {
    return refuse(
      `"${input}" is a public suffix (like com or co.uk): add a domain registered under it, such as example.${ascii}.`,
    );
  }

  for (const raw of options.platformDomains) {
    const trimmedOwn = raw.trim().replace(/\.$/, '');
    const own = domainToASCII(trimmedOwn) || trimmedOwn.toLowerCase();
    if (own && (ascii === own || ascii.endsWith(`.${own}`))) {
      return refuse(`"${input}" belongs to the platform (${own}) and cannot be added as a tenant domain.`);
    }
  }
  return { ok: true, ascii, unicode: domainToUnicode(ascii) };
}

/** Length and LDH rules on the A-label form; returns a sentence, or null when the name is well formed. */
function checkShape(ascii: string, input: string): string | null {
  if (ascii.length > MAX_NAME) return `"${input}" is longer than ${MAX_NAME} characters.`;
  const labels = ascii.split('.');
  for (const label of labels) {
    if (label.length === 0) return `"${input}" has an empty label.`;
    if (label.length > MAX_LABEL) return `The label "${label}" is longer than ${MAX_LABEL} characters.`;
    if (!LDH_LABEL.test(label)) {
      return `The label "${label}" may only hold letters, digits and inner hyphens.`;
    }
    // RFC 5891 §4.2.3.1: hyphens in the 3rd and 4th positions are reserved for A-labels (xn--).
    if (label.slice(2, 4) === '--' && !label.startsWith('xn--')) {
      return `The label "${label}" has "--" in positions 3-4, which is reserved for IDN labels.`;
    }
  }
  // RFC 3696 §2: a top-level domain is never all-numeric.
  if (/^\d+$/.test(labels[labels.length - 1] ?? '')) return `"${input}" ends in a numeric label.`;
  return null;
}

function refuse(message: string): NormalizedDomain {
  return { ok: false, message };
}
