import { Resolver } from 'node:dns/promises';
import { isIPv4, isIPv6 } from 'node:net';
import { DnsCache, formatDnsServer, type DnsServerAddress } from '@mailroom/dns';
import type { DNSResolver } from 'mailauth';

/** The lookups the inbound path makes, all through DNS_SERVERS (never a hidden default resolver). */
export interface InboundDns {
  /** mailauth's resolver signature: `dns.promises.resolve(name, rrtype)`. */
  resolve: DNSResolver;
  resolve4(name: string): Promise<string[]>;
}

/**
 * mailauth's SPF, DKIM and DMARC queries go through the process's DnsCache (`cacheTtlSeconds`,
 * DNS_CACHE_TTL_SECONDS): the same sender domain's records are asked once per TTL, not for
 * every message. DNSBL queries are asked afresh for each connection.
 */
export function createInboundDns(
  servers: readonly DnsServerAddress[],
  timeoutMs: number,
  cacheTtlSeconds = 0,
): InboundDns {
  const resolver = new Resolver({ timeout: timeoutMs, tries: 2 });
  if (servers.length > 0) resolver.setServers(servers.map(formatDnsServer));
  const cache = new DnsCache({ ttlSeconds: cacheTtlSeconds });
  return {
    resolve: (name, rrtype) =>
      cache.lookup(rrtype, name, () => resolver.resolve(name, rrtype) as Promise<string[][] | string[]>),
    resolve4: (name) => resolver.resolve4(name),
  };
}

/** The DNSBL query name of an address: reversed octets (IPv4) or nibbles (IPv6), RFC 5782 §2.1. */
export function dnsblQueryName(ip: string, zone: string): string | null {
  const address = ip.replace(/^::ffff:/i, '');
  if (isIPv4(address)) return `${address.split('.').reverse().join('.')}.${zone}`;
  if (!isIPv6(address)) return null;
  const groups = address.split('::');
  const head = groups[0] ? groups[0].split(':') : [];
  const tail = groups[1] ? groups[1].split(':') : [];
  const missing = groups.length > 1 ? 8 - head.length - tail.length : 0;
  const full = [...head, ...Array<string>(missing).fill('0'), ...tail].map((g) => g.padStart(4, '0')).join('');
  return `${[...full].reverse().join('.')}.${zone}`;
}

/**
 * Asks each configured DNSBL zone about a client address. A listing is an A record in
 * 127.0.0.0/8 (RFC 5782 §2.1); anything else, including lookup failures, counts as not listed,
 * so a DNSBL outage never refuses mail.
 */
export class DnsblChecker {
  constructor(
    private readonly zones: readonly string[],
    private readonly dns: Pick<InboundDns, 'resolve4'>,
  ) {}

  get enabled(): boolean {
    return this.zones.length > 0;
  }

  async listings(ip: string): Promise<string[]> {
    const results = await Promise.all(
      this.zones.map(async (zone) => {
        const name = dnsblQueryName(ip, zone);
        if (!name) return null;
        try {
          const answers = await this.dns.resolve4(name);
          return answers.some((a) => a.startsWith('127.')) ? zone : null;
        } catch {
          return null;
        }
      }),
    );
    return results.filter((zone): zone is string => zone !== null);
  }
}
