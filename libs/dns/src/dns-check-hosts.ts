import ipaddr from 'ipaddr.js';
import { isIP, isIPv6 } from 'node:net';
import type { DnsRecord } from './dns-plan';
import { failed, missing, mismatch, ok, type CheckOutcome } from './dns-check-result';
import { lookup, type DnsResolver } from './dns-resolver';

/** Lower case, no final dot: how names are compared (DNS names are case-insensitive, RFC 4343). */
function bare(name: string): string {
  return name.toLowerCase().replace(/\.$/, '');
}

/**
 * MX: exactly our host. Names the classic mistakes: a leftover MX (a provider's `MX 0
 * example.com.`), an MX naming an IP address (RFC 5321 §5.1 wants a host name), an MX naming a
 * CNAME (RFC 2181 §10.3 forbids it), and a null MX (RFC 7505).
 */
export async function checkMx(record: DnsRecord, resolver: DnsResolver): Promise<CheckOutcome> {
  const ours = bare(record.value);
  const pref = record.priority ?? 10;
  const answer = await lookup(() => resolver.resolveMx(record.name));
  if (answer.kind === 'failed') return failed(record, answer.code);
  if (answer.kind === 'absent') {
    return missing(
      `${record.name} has no MX record: add "${record.name}. IN MX ${pref} ${ours}." so mail reaches Mailroom.`,
    );
  }
  const mx = answer.value
    .map((m) => ({ priority: m.priority, exchange: bare(m.exchange) }))
    .sort((a, b) => a.priority - b.priority);
  const found = mx.map((m) => `${m.priority} ${m.exchange || '.'}`);
  if (mx.some((m) => m.exchange === '')) {
    return mismatch(
      found,
      `${record.name} publishes a null MX ("MX 0 ."), which tells senders it accepts no mail: remove it and add "MX ${pref} ${ours}.".`,
    );
  }
  const mine = mx.find((m) => m.exchange === ours);
  const others = mx.filter((m) => m.exchange !== ours);
  const aliases = await Promise.all(others.map((m) => aliasOf(m.exchange, resolver)));
  const problems = others.map((m, i) => {
    const rr = `"MX ${m.priority} ${m.exchange}."`;
    if (isIP(m.exchange)) return `${rr} names an IP address, but an MX must name a host (RFC 5321 §5.1)`;
    const alias = aliases[i];
    if (alias) {
      return `${rr} names ${m.exchange}, a CNAME to ${alias}, but an MX must not point at an alias (RFC 2181 §10.3)`;
    }
    if (!mine) return `${rr} sends mail elsewhere`;
    return m.priority <= mine.priority
      ? `${rr} is a leftover that senders try before Mailroom`
      : `${rr} is a leftover that receives mail whenever Mailroom is slow to answer`;
  });
  if (!mine) {
    return mismatch(
      found,
      `The MX of ${record.name} does not point at ${ours}: ${problems.join('; ')}. Publish only "MX ${pref} ${ours}.".`,
    );
  }
  if (problems.length > 0) {
    return mismatch(
      found,
      `Remove the extra MX record${problems.length > 1 ? 's' : ''} of ${record.name}: ${problems.join('; ')}.`,
    );
  }
  return ok(found, `${record.name} routes its mail to ${ours}.`);
}

/** The CNAME target of a name, or null when it is no alias or the lookup failed (then nothing is claimed). */
async function aliasOf(name: string, resolver: DnsResolver): Promise<string | null> {
  if (isIP(name)) return null;
  const answer = await lookup(() => resolver.resolveCname(name));
  return answer.kind === 'found' ? bare(answer.value[0] ?? '') || null : null;
}

/** SRV for client autoconfiguration (RFC 6186): our target on our port. */
export async function checkSrv(record: DnsRecord, resolver: DnsResolver): Promise<CheckOutcome> {
  const answer = await lookup(() => resolver.resolveSrv(record.name));
  const want = `${record.port ?? 0} ${record.value}`;
  if (answer.kind === 'failed') return failed(record, answer.code);
  if (answer.kind === 'absent') {
    return missing(
      `There is no SRV record at ${record.name}: mail clients will not find ${record.value} by themselves.`,
    );
  }
  const found = answer.value.map((s) => `${s.priority} ${s.weight} ${s.port} ${bare(s.name) || '.'}`);
  if (answer.value.some((s) => bare(s.name) === record.value && s.port === record.port)) {
    return ok(found, `${record.name} points mail clients to ${record.value} port ${record.port ?? 0}.`);
  }
  // RFC 2782: a target of "." says the service is decidedly not available.
  if (answer.value.some((s) => bare(s.name) === '')) {
    return mismatch(found, `${record.name} says the service is not offered (target "."): point it at ${want}.`);
  }
  return mismatch(found, `${record.name} points to ${found.join(', ')}, not port ${want}.`);
}

export async function checkCname(record: DnsRecord, resolver: DnsResolver): Promise<CheckOutcome> {
  const answer = await lookup(() => resolver.resolveCname(record.name));
  if (answer.kind === 'failed') return failed(record, answer.code);
  if (answer.kind === 'found') {
    const found = answer.value.map(bare);
    if (found.includes(record.value)) return ok(found, `${record.name} points to ${record.value}.`);
    return mismatch(found, `${record.name} is a CNAME to ${found.join(', ')}, not to ${record.value}.`);
  }
  const address = await lookup(() => resolver.resolve4(record.name));
  if (address.kind === 'found') {
    return mismatch(
      address.value,
      `${record.name} has an address record instead of a CNAME to ${record.value}: replace it.`,
    );
  }
  return missing(`There is no CNAME at ${record.name}: add one pointing to ${record.value}.`);
}

/**
 * PTR of a platform sending IP: it must name our host, and that host must resolve back to the
 * IP (forward-confirmed reverse DNS, checked by receivers as "iprev", RFC 8601 §3).
 */
export async function checkPtr(record: DnsRecord, resolver: DnsResolver): Promise<CheckOutcome> {
  const ip = record.key.slice('ptr:'.length);
  const answer = await lookup(() => resolver.reverse(ip));
  if (answer.kind === 'failed') return failed(record, answer.code);
  if (answer.kind === 'absent') {
    return missing(
      `The sending IP ${ip} has no PTR record: many receivers refuse mail from an IP without reverse DNS. The platform must set ${ip} → ${record.value} with the IP's provider.`,
    );
  }
  const found = answer.value.map(bare);
  if (!found.includes(record.value)) {
    return mismatch(found, `The PTR of ${ip} is ${found.join(', ')}, not ${record.value}.`);
  }
  const forward = await lookup(() => (isIPv6(ip) ? resolver.resolve6(record.value) : resolver.resolve4(record.value)));
  if (forward.kind === 'failed') return failed(record, forward.code, found);
  const addresses = forward.kind === 'found' ? forward.value.map(canonicalIp) : [];
  if (!addresses.includes(canonicalIp(ip))) {
    return mismatch(
      found,
      `The PTR of ${ip} is ${record.value}, but ${record.value} does not resolve back to ${ip}: receivers checking forward-confirmed reverse DNS treat the IP as having none.`,
    );
  }
  return ok(found, `${ip} has reverse DNS ${record.value}, which resolves back to it.`);
}

function canonicalIp(ip: string): string {
  return ipaddr.isValid(ip) ? ipaddr.parse(ip).toNormalizedString() : ip;
}
