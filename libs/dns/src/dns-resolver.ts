import { Resolver } from 'node:dns/promises';
import { isIPv6 } from 'node:net';
import { reverseName } from './dns-plan';

/**
 * The lookups the DNS checks need, with the shapes of `node:dns/promises` `Resolver`, so a
 * real resolver fits as is and tests may pass a fake. Failures reject with node's `code`.
 */
export interface DnsResolver {
  resolveTxt(name: string): Promise<string[][]>;
  resolveMx(name: string): Promise<{ exchange: string; priority: number }[]>;
  resolveCname(name: string): Promise<string[]>;
  resolveSrv(name: string): Promise<{ name: string; port: number; priority: number; weight: number }[]>;
  resolve4(name: string): Promise<string[]>;
  resolve6(name: string): Promise<string[]>;
  reverse(ip: string): Promise<string[]>;
}

/** A resolver address, the shape of `DNS_SERVERS` entries in `@mailroom/config`. */
export interface DnsServerAddress {
  host: string;
  port: number;
}

/**
 * A `node:dns/promises` Resolver asking only `servers` (the system's resolvers when the list is
 * empty, as `DNS_SERVERS` documents), giving up after `timeoutMs` per try, `tries` times.
 */
export function createNodeResolver(servers: readonly DnsServerAddress[], timeoutMs = 5000, tries = 2): DnsResolver {
  const resolver = new Resolver({ timeout: timeoutMs, tries });
  if (servers.length > 0) resolver.setServers(servers.map(formatDnsServer));
  return {
    resolveTxt: (name) => resolver.resolveTxt(name),
    resolveMx: (name) => resolver.resolveMx(name),
    resolveCname: (name) => resolver.resolveCname(name),
    resolveSrv: (name) => resolver.resolveSrv(name),
    resolve4: (name) => resolver.resolve4(name),
    resolve6: (name) => resolver.resolve6(name),
    // Not resolver.reverse(): c-ares' gethostbyaddr turns a timeout or SERVFAIL into ENOTFOUND,
    // which would report "no PTR" when the server did not answer. A PTR query keeps the code.
    reverse: (ip) => resolver.resolvePtr(reverseName(ip)),
  };
}

/** A server as `Resolver.setServers` takes it: `1.2.3.4:53`, `[::1]:53` (a bare IPv6 address with a port is ambiguous). */
export function formatDnsServer(server: DnsServerAddress): string {
  return isIPv6(server.host) ? `[${server.host}]:${server.port}` : `${server.host}:${server.port}`;
}

/** A lookup's outcome: answered, known to be absent, or unknown because the lookup itself failed. */
export type Lookup<T> = { kind: 'found'; value: T } | { kind: 'absent' } | { kind: 'failed'; code: string };

// NXDOMAIN and NODATA: the name or the type is not there. Timeouts, SERVFAIL, refused and
// broken answers say nothing about the zone, so they are "could not check", never "missing".
const ABSENT_CODES = new Set(['ENOTFOUND', 'ENODATA']);

/** Runs one lookup and classifies its failure by node's error `code`; an empty answer is absent. */
export async function lookup<T>(run: () => Promise<T>): Promise<Lookup<T>> {
  try {
    const value = await run();
    return Array.isArray(value) && value.length === 0 ? { kind: 'absent' } : { kind: 'found', value };
  } catch (error) {
    const code = (error as { code?: unknown } | null)?.code;
    if (typeof code === 'string' && ABSENT_CODES.has(code)) return { kind: 'absent' };
    return { kind: 'failed', code: typeof code === 'string' ? code : 'EUNKNOWN' };
  }
}

/** The sentence for a lookup that failed. */
export function couldNotCheck(name: string, type: string, code: string): string {
  const why: Record<string, string> = {
    ETIMEOUT: 'the DNS server did not answer in time',
    ESERVFAIL: 'the DNS server answered SERVFAIL (often a broken DNSSEC chain or an unreachable authoritative server)',
    ECONNREFUSED: 'the DNS server refused the connection',
    EREFUSED: 'the DNS server refused the query',
  };
  return `Could not check the ${type} record of ${name}: ${why[code] ?? `the lookup failed (${code})`}. It will be checked again.`;
}
