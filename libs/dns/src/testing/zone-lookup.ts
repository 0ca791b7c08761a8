import type { ZoneRecord } from '../zone';

/** What an authoritative server answers from `records` (RFC 1034 §4.3.2, without delegation). */
export function lookupZone(
  records: readonly ZoneRecord[],
  name: string,
  type: string,
): { rcode: 'NOERROR' | 'NXDOMAIN'; answers: ZoneRecord[] } {
  const qname = name.toLowerCase().replace(/\.$/, '');
  const here = records.filter((r) => r.name === qname);
  let answers = here.filter((r) => r.type === type);
  const alias = here.find((r) => r.type === 'CNAME');
  // An alias answers any other type with the CNAME, followed by the target's records.
  if (answers.length === 0 && alias && type !== 'CNAME') {
    answers = [alias, ...records.filter((r) => r.name === alias.value && r.type === type)];
  }
  // A name that only owns names below it (an empty non-terminal) exists: NODATA, not NXDOMAIN.
  const exists = here.length > 0 || records.some((r) => r.name.endsWith(`.${qname}`));
  return { rcode: answers.length === 0 && !exists ? 'NXDOMAIN' : 'NOERROR', answers };
}
