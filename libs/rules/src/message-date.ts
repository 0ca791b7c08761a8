import { stripComments } from './header-comments';

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
// [day-of-week ","] day month year hour ":" minute [":" second] [zone], tokens apart by white
// space (RFC 5322 section 3.3); "." is taken as a time separator too, as mail in the wild has it.
const DATE =
  /^\s*(?:[A-Za-z]{3}\s*,\s*)?(\d{1,2})\s+([A-Za-z]{3})[A-Za-z]*\s+(\d{2}|\d{4})\s+(\d{1,2})\s*[:.]\s*(\d{2})(?:\s*[:.]\s*(\d{2}))?\s*([\w!#$%&'*+/=?^`{|}~-]*)/;
const US_ZONES: Record<string, number> = { E: -5, C: -6, M: -7, P: -8 };

/**
 * The instant of a Date header (RFC 5322 section 3.3, with its obsolete forms of section 4.3:
 * two-digit years, zone names, military zones), or null when it is not a date. A missing or
 * unknown zone reads as UTC. Strict where JavaScript's Date is lenient (ISO 8601, no zone read
 * in the server's local time), so SORT DATE and SENTBEFORE see what other servers see.
 */
export function parseMessageDate(value: string | undefined): Date | null {
  if (value === undefined) return null;
  const m = DATE.exec(stripComments(value));
  if (!m) return null;
  const month = MONTHS.indexOf(m[2]!.toLowerCase());
  let year = Number(m[3]);
  if (m[3]!.length === 2) year += year < 70 ? 2000 : 1900;
  if (month < 0 || year < 1900) return null;
  const utc = Date.UTC(year, month, Number(m[1]), Number(m[4]), Number(m[5]), Number(m[6] ?? 0));
  return Number.isNaN(utc) ? null : new Date(utc - zoneMinutes(m[7]!) * 60_000);
}

/** A zone's offset east of UTC in minutes; 0 for UT, GMT and anything unknown. */
function zoneMinutes(zone: string): number {
  if (/^[+-]\d{4}$/.test(zone)) {
    const minutes = Number(zone.slice(1, 3)) * 60 + Number(zone.slice(3));
    return zone.startsWith('-') ? -minutes : minutes;
  }
  const z = zone.toUpperCase();
  if (/^[A-Z]$/.test(z)) {
    // Military zones: A-I are +1..+9, K-M +10..+12 (no J), N-Y -1..-12, Z is UTC.
    const c = z.charCodeAt(0) - 64;
    if (z === 'Z' || z === 'J') return 0;
    if (z < 'J') return c * 60;
    if (z <= 'M') return (c - 1) * 60;
    return -(c - 13) * 60;
  }
  const us = z.length === 3 && z[2] === 'T' ? US_ZONES[z[0]!] : undefined;
  if (us === undefined) return 0;
  return (us + (z[1] === 'D' ? 1 : 0)) * 60;
}
