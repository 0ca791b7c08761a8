import { reverseName } from '../dns-plan';
import type { DnsResolver } from '../dns-resolver';
import { parseBindZone, type ZoneRecord } from '../zone';
import { lookupZone } from './zone-lookup';

/**
 * An in-memory {@link DnsResolver} answering from a BIND zone, with node's error codes:
 * ENOTFOUND for NXDOMAIN, ENODATA for no record of the type, and `failures` (name → code,
 * e.g. ETIMEOUT) for lookups that fail. For fast unit tests; the integration test uses a real server.
 */
export function zoneResolver(zone: string, failures: Readonly<Record<string, string>> = {}): DnsResolver {
  const records = parseBindZone(zone);
  const query = (name: string, type: string): Promise<ZoneRecord[]> => {
    const code = failures[name.toLowerCase()];
    if (code) return Promise.reject(Object.assign(new Error(`${code} ${name}`), { code }));
    const { rcode, answers } = lookupZone(records, name, type);
    const matching = answers.filter((r) => r.type === type);
    if (matching.length > 0) return Promise.resolve(matching);
    const error = rcode === 'NXDOMAIN' ? 'ENOTFOUND' : 'ENODATA';
    return Promise.reject(Object.assign(new Error(`${error} ${name}`), { code: error }));
  };
  return {
    resolveTxt: async (name) => (await query(name, 'TXT')).map((r) => [r.value]),
    resolveMx: async (name) => (await query(name, 'MX')).map((r) => ({ exchange: r.value, priority: r.priority ?? 0 })),
    resolveCname: async (name) => (await query(name, 'CNAME')).map((r) => r.value),
    resolveSrv: async (name) =>
      (await query(name, 'SRV')).map((r) => ({
        name: r.value,
        port: r.port ?? 0,
        priority: r.priority ?? 0,
        weight: r.weight ?? 0,
      })),
    resolve4: async (name) => (await query(name, 'A')).map((r) => r.value),
    resolve6: async (name) => (await query(name, 'AAAA')).map((r) => r.value),
    reverse: async (ip) => (await query(reverseName(ip), 'PTR')).map((r) => r.value),
  };
}
