import type { DnsResolver } from '@mailroom/dns';

export type Destination =
  | { kind: 'hosts'; hosts: { name: string; priority: number }[]; implicit: boolean }
  | { kind: 'null-mx' }
  | { kind: 'no-domain' }
  | { kind: 'tempfail'; reason: string };

const MISSING = new Set(['ENOTFOUND', 'ENODATA']);

function code(err: unknown): string {
  return (err as { code?: string })?.code ?? 'EUNKNOWN';
}

/**
 * Where mail for a domain goes (RFC 5321 §5.1): its MX hosts by preference; a null MX (RFC 7505:
 * one MX of preference 0 and host ".") means the domain accepts no mail; no MX falls back to
 * the domain's own A/AAAA ("implicit MX"). A lookup that times out or fails is temporary.
 */
export async function findDestination(resolver: DnsResolver, domain: string): Promise<Destination> {
  try {
    const mx = await resolver.resolveMx(domain);
    if (mx.length === 1 && (mx[0]!.exchange === '' || mx[0]!.exchange === '.')) return { kind: 'null-mx' };
    const hosts = mx
      .filter((r) => r.exchange !== '' && r.exchange !== '.')
      .map((r) => ({ name: r.exchange.replace(/\.$/, '').toLowerCase(), priority: r.priority }))
      .sort((a, b) => a.priority - b.priority);
    if (hosts.length > 0) return { kind: 'hosts', hosts, implicit: false };
  } catch (err) {
    if (!MISSING.has(code(err))) return { kind: 'tempfail', reason: `MX lookup for ${domain} failed (${code(err)})` };
  }
  // No MX: the domain's own address is the implicit MX; no address either means no mail host.
  const a = await addresses(resolver, domain);
  if (a.kind === 'error') return { kind: 'tempfail', reason: a.reason };
  return a.ips.length
    ? { kind: 'hosts', hosts: [{ name: domain, priority: 0 }], implicit: true }
    : { kind: 'no-domain' };
}

/** IPv4 then IPv6 addresses of a host, through the same resolver (never the system's). */
export async function addresses(
  resolver: DnsResolver,
  host: string,
): Promise<{ kind: 'ok'; ips: string[] } | { kind: 'error'; reason: string }> {
  const ips: string[] = [];
  for (const lookup of [resolver.resolve4.bind(resolver), resolver.resolve6.bind(resolver)]) {
    try {
      ips.push(...(await lookup(host)));
    } catch (err) {
      if (!MISSING.has(code(err))) return { kind: 'error', reason: `address lookup for ${host} failed (${code(err)})` };
    }
  }
  return { kind: 'ok', ips };
}
