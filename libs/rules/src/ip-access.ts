import ipaddr from 'ipaddr.js';

export type IpService = 'submission' | 'pop3' | 'imap';
export type IpRuleAction = 'allow' | 'deny';

export interface IpAccessRule {
  cidr: string;
  action: IpRuleAction;
  service: IpService;
  priority: number;
}

export type CidrValidation = { ok: true; cidr: string } | { ok: false; error: string };

export interface IpAccessDecision<R extends IpAccessRule = IpAccessRule> {
  allowed: boolean;
  /** The rule that decided; absent when the default did. */
  rule?: R;
  reason: string;
}

type Address = ipaddr.IPv4 | ipaddr.IPv6;
interface Network {
  address: Address;
  prefix: number;
}

/**
 * Parses one address strictly. IPv4 must be four decimal parts: ipaddr.js's lenient parse reads
 * `010.0.0.1` as octal 8.0.0.1 and `10.1` as 10.0.0.1, which would silently widen or move a rule.
 */
function parseAddress(text: string): Address | null {
  if (ipaddr.IPv4.isValidFourPartDecimal(text)) {
    return ipaddr.IPv4.parse(text);
  }
  return !text.includes('%') && ipaddr.IPv6.isValid(text) ? ipaddr.IPv6.parse(text) : null;
}

// An IPv4 client reached over a dual-stack socket shows up as ::ffff:a.b.c.d (RFC 4291 §2.5.5.2).
function unmap(address: Address): Address {
  return address.kind() === 'ipv6' && (address as ipaddr.IPv6).isIPv4MappedAddress()
    ? (address as ipaddr.IPv6).toIPv4Address()
    : address;
}

function format(network: Network): string {
  const { address, prefix } = network;
  const text = address.kind() === 'ipv4' ? address.toString() : (address as ipaddr.IPv6).toRFC5952String();
  return `${text}/${prefix}`;
}

function parseNetwork(input: string): { ok: true; network: Network } | { ok: false; error: string } {
  const text = input.trim();
  if (text === '') {
    return { ok: false, error: 'a CIDR such as 192.0.2.0/24 or 2001:db8::/32 is required' };
  }
  const [host = '', prefixText, ...rest] = text.split('/');
  const parsed = parseAddress(host);
  if (!parsed) {
    const hint = /^[\d.]+$/.test(host) ? ' (IPv4 is four decimal numbers 0-255 without leading zeros)' : '';
    return { ok: false, error: `"${host}" is not an IPv4 or IPv6 address${hint}` };
  }
  const max = parsed.kind() === 'ipv4' ? 32 : 128;
  const family = parsed.kind() === 'ipv4' ? 'IPv4' : 'IPv6';
  if (rest.length > 0 || (prefixText !== undefined && !/^\d{1,3}$/.test(prefixText))) {
    return { ok: false, error: `prefix length must be a number 0-${max} for ${family}` };
  }
  const prefix = prefixText === undefined ? max : Number(prefixText);
  if (prefix > max) {
    return { ok: false, error: `prefix length must be 0-${max} for ${family}` };
  }
  const cidr = `${host}/${prefix}`;
  const networkAddress =
    parsed.kind() === 'ipv4' ? ipaddr.IPv4.networkAddressFromCIDR(cidr) : ipaddr.IPv6.networkAddressFromCIDR(cidr);
  if (networkAddress.toNormalizedString() !== parsed.toNormalizedString()) {
    const net = format({ address: networkAddress, prefix });
    const one = format({ address: parsed, prefix: max });
    return { ok: false, error: `host bits are set: use ${net} for the network or ${one} for the one address` };
  }
  // ::ffff:0:0/96 and longer are IPv4 networks in IPv6 notation: store them as IPv4.
  if (parsed.kind() === 'ipv6' && prefix >= 96 && (parsed as ipaddr.IPv6).isIPv4MappedAddress()) {
    return { ok: true, network: { address: unmap(parsed), prefix: prefix - 96 } };
  }
  return { ok: true, network: { address: parsed, prefix } };
}

/**
 * Validates and normalizes a CIDR for an IP access rule or an API key allowlist. A bare address
 * means one host (/32 or /128). IPv6 is written in RFC 5952 form, IPv4-mapped networks
 * (`::ffff:10.0.0.0/104`) as IPv4 (`10.0.0.0/8`). A CIDR with host bits set (`10.0.0.1/8`) is
 * refused, not rounded down, because the author may have meant `/32`, and rounding would turn
 * one allowed host into sixteen million; the error names both candidates.
 */
export function validateCidr(input: string): CidrValidation {
  const result = parseNetwork(input);
  return result.ok ? { ok: true, cidr: format(result.network) } : result;
}

function parseClientIp(ip: string): Address | null {
  // A zone id (fe80::1%eth0) names the local interface, not part of the peer's address.
  const parsed = parseAddress(ip.trim().replace(/%.*$/, ''));
  return parsed ? unmap(parsed) : null;
}

function contains(network: Network, address: Address): boolean {
  return network.address.kind() === address.kind() && address.match(network.address, network.prefix);
}

/**
 * True when `ip` lies in any of `cidrs` (for API key IP allowlists). Entries that are not valid
 * CIDRs never match; an empty list matches nothing, so "no allowlist" is the caller's decision.
 * IPv4-mapped IPv6 clients match IPv4 entries.
 */
export function ipInCidrs(ip: string, cidrs: readonly string[]): boolean {
  const address = parseClientIp(ip);
  if (!address) {
    return false;
  }
  return cidrs.some((cidr) => {
    const parsed = parseNetwork(cidr);
    return parsed.ok && contains(parsed.network, address);
  });
}

/**
 * Decides whether `ip` may use `service`.
 *
 * Only the rules for that service count. They are tried by priority ascending, then by most
 * specific prefix first, then deny before allow (a tie must not open access), then in list
 * order; the first rule whose network contains the address decides. When none does, the
 * address is allowed, unless the service has at least one allow rule: the list is then an
 * allowlist and everything not on it is denied. IPv4 clients arriving as IPv4-mapped IPv6
 * (`::ffff:10.0.0.1`) are matched as IPv4 only. A client address that cannot be parsed is
 * denied, and a stored rule with an invalid CIDR never matches (but still makes an allowlist).
 */
export function evaluateIpAccess<R extends IpAccessRule>(
  rules: readonly R[],
  service: IpService,
  ip: string,
): IpAccessDecision<R> {
  const address = parseClientIp(ip);
  if (!address) {
    return { allowed: false, reason: `"${ip}" is not an IP address` };
  }
  const forService = rules.filter((rule) => rule.service === service);
  let best: { rule: R; prefix: number } | null = null;
  for (const rule of forService) {
    const parsed = parseNetwork(rule.cidr);
    if (!parsed.ok || !contains(parsed.network, address)) {
      continue;
    }
    const candidate = { rule, prefix: parsed.network.prefix };
    if (!best || precedes(candidate, best)) {
      best = candidate;
    }
  }
  if (best) {
    const { rule } = best;
    const verb = rule.action === 'allow' ? 'allowed' : 'denied';
    return {
      allowed: rule.action === 'allow',
      rule,
      reason: `${verb} by rule ${rule.cidr} (priority ${rule.priority})`,
    };
  }
  if (forService.some((rule) => rule.action === 'allow')) {
    return { allowed: false, reason: `no rule matched and ${service} has allow rules, so other addresses are denied` };
  }
  return { allowed: true, reason: `no rule for ${service} matched; allowed by default` };
}

// Strictly-before only, so among full ties the earlier rule in the list stays the winner.
function precedes(a: { rule: IpAccessRule; prefix: number }, b: { rule: IpAccessRule; prefix: number }): boolean {
  if (a.rule.priority !== b.rule.priority) {
    return a.rule.priority < b.rule.priority;
  }
  if (a.prefix !== b.prefix) {
    return a.prefix > b.prefix;
  }
  return a.rule.action === 'deny' && b.rule.action === 'allow';
}

/**
 * The unit an address is counted as for brute-force limits: an IPv4 address itself, an IPv6
 * address by its /64 (one host usually holds a whole /64, so per-address counting is no limit).
 */
export function throttleSubject(ip: string): string {
  const parsed = parseAddress(ip.split('%')[0] ?? ip);
  if (!parsed) return ip;
  const address = unmap(parsed);
  if (address.kind() === 'ipv4') return address.toString();
  const parts = (address as ipaddr.IPv6).parts.slice(0, 4).map((p) => p.toString(16));
  return `${parts.join(':')}::/64`;
}

/**
 * True for an address on the public internet; false for loopback, private, link-local,
 * unique-local, carrier-grade NAT, unspecified, multicast and reserved ranges, IPv4-mapped
 * forms included. Used to keep webhooks from reaching internal services (SSRF).
 */
export function isPublicAddress(ip: string): boolean {
  const parsed = parseAddress(ip.split('%')[0] ?? ip);
  if (!parsed) return false;
  return unmap(parsed).range() === 'unicast';
}
