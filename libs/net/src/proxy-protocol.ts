import net from 'node:net';
import ipaddr from 'ipaddr.js';

/**
 * The PROXY protocol (HAProxy's proxy-protocol.txt, versions 1 and 2): the header a TCP proxy
 * (`send-proxy`, `send-proxy-v2`) writes before the client's bytes, naming the client's address.
 */

/** Where a proxied connection came from and went to. */
export interface ProxiedAddresses {
  sourceAddress: string;
  sourcePort: number;
  destinationAddress: string;
  destinationPort: number;
}

/**
 * A complete header. `local` (v2 LOCAL, v1 UNKNOWN, or v2 PROXY over a family other than TCP
 * over IPv4/IPv6) carries no client: the proxy's own connection, such as a health check, and
 * the socket's addresses stand (spec §2.1 and §2.2).
 */
export type ProxyHeader =
  | { version: 1 | 2; command: 'proxy'; family: 'tcp4' | 'tcp6'; addresses: ProxiedAddresses }
  | { version: 1 | 2; command: 'local' };

export type ProxyParse =
  | { state: 'incomplete' }
  | { state: 'invalid'; reason: string }
  /** `length` bytes are the header; what follows is the client's. */
  | { state: 'done'; header: ProxyHeader; length: number };

/** `\r\n\r\n\0\r\nQUIT\n`: the twelve bytes every v2 header starts with (spec §2.2). */
export const V2_SIGNATURE = Buffer.from([0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a]);
const V1_PREFIX = Buffer.from('PROXY ', 'latin1');
/** Spec §2.1: 107 bytes at most, CRLF included. */
export const V1_MAX_LENGTH = 107;
const V2_FIXED = 16;

/**
 * Reads a PROXY header from the start of `input`: `incomplete` while more bytes may make it
 * one, `invalid` as soon as they cannot (so a connection that does not speak the protocol is
 * refused at its first bytes, not at the timeout), or the header and its length.
 */
export function parseProxyHeader(input: Buffer): ProxyParse {
  if (startsWithPrefixOf(input, V2_SIGNATURE)) {
    return input.length < V2_SIGNATURE.length ? { state: 'incomplete' } : parseV2(input);
  }
  if (startsWithPrefixOf(input, V1_PREFIX)) {
    return input.length < V1_PREFIX.length ? { state: 'incomplete' } : parseV1(input);
  }
  return { state: 'invalid', reason: 'not a PROXY protocol header' };
}

/** True when `input` and `prefix` agree on their common length. */
function startsWithPrefixOf(input: Buffer, prefix: Buffer): boolean {
  const n = Math.min(input.length, prefix.length);
  return input.subarray(0, n).equals(prefix.subarray(0, n));
}

function parseV1(input: Buffer): ProxyParse {
  const lf = input.indexOf(0x0a);
  if (lf < 0) {
    return input.length >= V1_MAX_LENGTH
      ? { state: 'invalid', reason: 'v1 header longer than 107 bytes' }
      : { state: 'incomplete' };
  }
  if (lf + 1 > V1_MAX_LENGTH) return { state: 'invalid', reason: 'v1 header longer than 107 bytes' };
  if (input[lf - 1] !== 0x0d) return { state: 'invalid', reason: 'v1 header does not end in CRLF' };
  const length = lf + 1;
  const fields = input
    .subarray(0, lf - 1)
    .toString('latin1')
    .split(' ');
  // "PROXY UNKNOWN" may be followed by anything, which the receiver ignores (§2.1).
  if (fields[1] === 'UNKNOWN') return { state: 'done', header: { version: 1, command: 'local' }, length };
  if (fields.length !== 6 || (fields[1] !== 'TCP4' && fields[1] !== 'TCP6')) {
    return { state: 'invalid', reason: 'v1 header is not "PROXY TCP4|TCP6 src dst sport dport"' };
  }
  const family = fields[1] === 'TCP4' ? 'tcp4' : 'tcp6';
  const [src, dst, sport, dport] = fields.slice(2) as [string, string, string, string];
  const want = family === 'tcp4' ? 4 : 6;
  if (net.isIP(src) !== want || net.isIP(dst) !== want) {
    return { state: 'invalid', reason: `v1 header addresses are not ${fields[1]} addresses` };
  }
  const sourcePort = v1Port(sport);
  const destinationPort = v1Port(dport);
  if (sourcePort === null || destinationPort === null) return { state: 'invalid', reason: 'v1 header port invalid' };
  const addresses = { sourceAddress: canonical(src), sourcePort, destinationAddress: canonical(dst), destinationPort };
  return { state: 'done', header: { version: 1, command: 'proxy', family, addresses }, length };
}

// Ports are decimal 0-65535 without leading zeros (§2.1).
function v1Port(text: string): number | null {
  if (!/^(0|[1-9]\d{0,4})$/.test(text)) return null;
  const port = Number(text);
  return port <= 65535 ? port : null;
}

function canonical(address: string): string {
  return net.isIPv6(address) ? ipaddr.IPv6.parse(address).toRFC5952String() : address;
}

function parseV2(input: Buffer): ProxyParse {
  if (input.length < V2_FIXED) return { state: 'incomplete' };
  const versionCommand = input[12]!;
  const familyProtocol = input[13]!;
  const length = V2_FIXED + input.readUInt16BE(14);
  if (versionCommand >> 4 !== 2) return { state: 'invalid', reason: 'v2 header version is not 2' };
  const command = versionCommand & 0x0f;
  if (command > 1) return { state: 'invalid', reason: `v2 header command ${command} unknown` };
  if (input.length < length) return { state: 'incomplete' };
  // LOCAL: the proxy speaking for itself (health checks); the address block is ignored.
  if (command === 0) return { state: 'done', header: { version: 2, command: 'local' }, length };
  const body = input.subarray(V2_FIXED, length);
  if (familyProtocol === 0x11) {
    if (body.length < 12) return { state: 'invalid', reason: 'v2 TCP over IPv4 address block too short' };
    const addresses = {
      sourceAddress: ipaddr.fromByteArray([...body.subarray(0, 4)]).toString(),
      destinationAddress: ipaddr.fromByteArray([...body.subarray(4, 8)]).toString(),
      sourcePort: body.readUInt16BE(8),
      destinationPort: body.readUInt16BE(10),
    };
    return { state: 'done', header: { version: 2, command: 'proxy', family: 'tcp4', addresses }, length };
  }
  if (familyProtocol === 0x21) {
    if (body.length < 36) return { state: 'invalid', reason: 'v2 TCP over IPv6 address block too short' };
    const addresses = {
      sourceAddress: (ipaddr.fromByteArray([...body.subarray(0, 16)]) as ipaddr.IPv6).toRFC5952String(),
      destinationAddress: (ipaddr.fromByteArray([...body.subarray(16, 32)]) as ipaddr.IPv6).toRFC5952String(),
      sourcePort: body.readUInt16BE(32),
      destinationPort: body.readUInt16BE(34),
    };
    return { state: 'done', header: { version: 2, command: 'proxy', family: 'tcp6', addresses }, length };
  }
  // UNSPEC, UDP, UNIX: no TCP client address to take; §2.2 says to keep the socket's.
  return { state: 'done', header: { version: 2, command: 'local' }, length };
}

/** A v2 PROXY header for TCP over IPv4 or IPv6 (tests and tools; HAProxy's `send-proxy-v2`). */
export function encodeProxyV2(addresses: ProxiedAddresses | null): Buffer {
  if (!addresses) return Buffer.concat([V2_SIGNATURE, Buffer.from([0x20, 0x00, 0x00, 0x00])]);
  const v6 = net.isIPv6(addresses.sourceAddress);
  const body = Buffer.alloc(v6 ? 36 : 12);
  const size = v6 ? 16 : 4;
  Buffer.from(ipaddr.parse(addresses.sourceAddress).toByteArray()).copy(body, 0);
  Buffer.from(ipaddr.parse(addresses.destinationAddress).toByteArray()).copy(body, size);
  body.writeUInt16BE(addresses.sourcePort, size * 2);
  body.writeUInt16BE(addresses.destinationPort, size * 2 + 2);
  const fixed = Buffer.from([0x21, v6 ? 0x21 : 0x11, 0, 0]);
  fixed.writeUInt16BE(body.length, 2);
  return Buffer.concat([V2_SIGNATURE, fixed, body]);
}
