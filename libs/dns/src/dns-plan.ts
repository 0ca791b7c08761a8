import ipaddr from 'ipaddr.js';
import { dkimTxtValue } from './dkim-key';
import { mergeSpf, spfRecordFor } from './spf';

export type DnsRecordType = 'TXT' | 'MX' | 'CNAME' | 'SRV' | 'PTR';
/** Mirrors the `DnsCheckStatus` enum of the schema; `error` means "could not check". */
export type DnsCheckStatus = 'ok' | 'missing' | 'mismatch' | 'error' | 'pending';
/** Mirrors the `DkimKeyStatus` enum of the schema. */
export type DkimKeyStatus = 'pending' | 'active' | 'retiring' | 'retired';
export type DmarcPolicy = 'none' | 'quarantine' | 'reject';
export type MtaStsMode = 'enforce' | 'testing' | 'none';

/** One record of a domain's DNS plan. Names are absolute, lower case, without the final dot. */
export interface DnsRecord {
  /** Stable id, the `record_key` of `dns_checks`: `mx`, `dkim:<selector>`, `ptr:<ip>`, ... */
  key: string;
  purpose: string;
  type: DnsRecordType;
  name: string;
  /** The name relative to the domain, as DNS hosting panels ask for it: `@`, `_dmarc`, ... */
  host: string;
  /** TXT: the whole text, unsplit and unquoted. MX, CNAME, SRV, PTR: the target host name. */
  value: string;
  ttl: number;
  /** MX preference or SRV priority. */
  priority?: number;
  /** SRV weight and port. */
  weight?: number;
  port?: number;
  /** DKIM records: the status of their key, which decides whether the lifecycle counts them. */
  keyStatus?: DkimKeyStatus;
  /** Counted by the domain lifecycle (ownership, MX, SPF, DKIM); the rest is recommended. */
  required: boolean;
  note?: string;
  /** The latest check of this record, `pending` before the first one. */
  status: DnsCheckStatus;
}

/** A record before the fields every record shares (host, TTL, status) are filled in. */
type PlannedRecord = Omit<DnsRecord, 'host' | 'status' | 'ttl'>;

/** Where mail clients connect: IMAP and POP3 over TLS, submission with STARTTLS and over TLS. */
export interface ClientPorts {
  imaps: number;
  pop3s: number;
  submission: number;
  submissions: number;
}

export const STANDARD_CLIENT_PORTS: ClientPorts = { imaps: 993, pop3s: 995, submission: 587, submissions: 465 };

export interface DnsPlanInput {
  /** Punycode, lower case, from `normalizeDomain`. */
  domain: string;
  ownershipToken: string;
  mxHostname: string;
  /** The platform's SPF include, e.g. `spf.mailroom.test`. */
  spfInclude: string;
  /** SPF records the domain publishes today (from the last check): the plan then proposes one merged record. */
  existingSpf?: readonly string[];
  dmarcPolicy: DmarcPolicy;
  /** Where aggregate reports go: `dmarc@mailroom.test` or `mailto:dmarc@mailroom.test`. */
  dmarcRua: string;
  dkim: readonly { selector: string; publicKey: string; status: DkimKeyStatus }[];
  /** RFC 8461 §3.1: 1 to 32 letters and digits, changed whenever the policy changes. */
  mtaStsId: string;
  mtaStsMode: MtaStsMode;
  /** The platform host serving MTA-STS policies; when set, the plan asks for `mta-sts.<domain>` CNAME to it. */
  mtaStsHost?: string;
  /** Where TLS reports go: an address, `mailto:` or `https:` URI. */
  tlsRptRua: string;
  clientHosts: { imap: string; pop3: string; submission: string };
  /** The ports the SRV records name; the standard 587, 993 and 995 when absent. */
  clientPorts?: ClientPorts;
  autoconfigTarget: string;
  sendingIps: readonly string[];
  ptrHostname: string;
  ttl: number;
  /** Latest check status per record key. */
  checks?: Readonly<Record<string, DnsCheckStatus>>;
}

/** The TXT value proving ownership: the domain's random token under a recognisable prefix. */
export function ownershipTxtValue(token: string): string {
  return `mailroom-verify=${token}`;
}

/**
 * Builds the ordered list of records a domain publishes: ownership, MX, SPF, DKIM, DMARC,
 * MTA-STS, TLS-RPT, client autoconfiguration, and the (informational) PTR of our sending IPs.
 * Pure: the same input gives the same plan.
 */
export function buildDnsPlan(input: DnsPlanInput): DnsRecord[] {
  const d = input.domain.toLowerCase().replace(/\.$/, '');
  if (!/^[a-z0-9]{1,32}$/i.test(input.mtaStsId)) throw new Error('mtaStsId must be 1 to 32 letters or digits');
  const ports = input.clientPorts ?? STANDARD_CLIENT_PORTS;
  const records: PlannedRecord[] = [
    {
      key: 'ownership',
      purpose: 'Proves you control this domain',
      type: 'TXT',
      name: `_mailroom-verify.${d}`,
      value: ownershipTxtValue(input.ownershipToken),
      required: true,
    },
    {
      key: 'mx',
      purpose: 'Routes incoming mail to Mailroom',
      type: 'MX',
      name: d,
      value: bare(input.mxHostname),
      priority: 10,
      required: true,
      note: `Remove every other MX record of ${d} (including a provider's default such as "MX 0 ${d}."): senders try the lowest preference first.`,
    },
    spfRecord(d, input),
    ...dkimRecords(d, input),
    dmarcRecord(d, input),
    ...mtaStsRecords(d, input),
    {
      key: 'tls-rpt',
      purpose: 'Asks senders to report TLS delivery failures (RFC 8460)',
      type: 'TXT',
      name: `_smtp._tls.${d}`,
      value: `v=TLSRPTv1; rua=${asUri(input.tlsRptRua)}`,
      required: false,
    },
    // RFC 6186 §3: clients find servers by SRV; a lower priority is preferred, so IMAP before POP3.
    srv('submission', d, input.clientHosts.submission, ports.submission, 0),
    srv('imaps', d, input.clientHosts.imap, ports.imaps, 0),
    srv('pop3s', d, input.clientHosts.pop3, ports.pop3s, 10),
    cname('autoconfig', d, input.autoconfigTarget, 'Thunderbird-style client autoconfiguration'),
    cname('autodiscover', d, input.autoconfigTarget, 'Outlook-style client autodiscovery'),
    ...ptrRecords(input),
  ];
  return records.map((r) => ({
    ...r,
    host: hostOf(r.name, d),
    ttl: input.ttl,
    status: input.checks?.[r.key] ?? 'pending',
  }));
}

/** Keys still published (RFC 6376 §3.6.1); the active key signs, a pending one will once it is seen. */
function dkimRecords(d: string, input: DnsPlanInput): PlannedRecord[] {
  return input.dkim
    .filter((k) => k.status !== 'retired')
    .map((k) => ({
      key: `dkim:${k.selector}`,
      purpose: `DKIM public key (${k.status}) for signatures with selector ${k.selector}`,
      type: 'TXT' as const,
      name: `${k.selector}._domainkey.${d}`,
      value: dkimTxtValue(k.publicKey),
      keyStatus: k.status,
      required: k.status === 'active' || k.status === 'pending',
      // RFC 1035 §3.3.14: one TXT character-string holds at most 255 bytes.
      ...(Buffer.byteLength(dkimTxtValue(k.publicKey)) > 255
        ? { note: 'Longer than 255 bytes: publish it as several quoted strings in one record (the zone shows how).' }
        : {}),
    }));
}

/** RFC 8461 §3.1 TXT, and the CNAME letting the platform serve `https://mta-sts.<domain>/` when it does. */
function mtaStsRecords(d: string, input: DnsPlanInput): PlannedRecord[] {
  const txt: PlannedRecord = {
    key: 'mta-sts',
    purpose: 'Announces the MTA-STS policy: senders must use TLS to reach your MX (RFC 8461)',
    type: 'TXT',
    name: `_mta-sts.${d}`,
    value: `v=STSv1; id=${input.mtaStsId}`,
    required: false,
    note: `The policy itself is served at https://mta-sts.${d}/.well-known/mta-sts.txt.`,
  };
  if (!input.mtaStsHost) return [txt];
  const host: PlannedRecord = {
    key: 'cname:mta-sts',
    purpose: 'Lets Mailroom serve your MTA-STS policy over HTTPS',
    type: 'CNAME',
    name: `mta-sts.${d}`,
    value: bare(input.mtaStsHost),
    required: false,
  };
  return [txt, host];
}

/** What the platform's sending IPs must resolve to; receivers check it, the tenant has nothing to publish. */
function ptrRecords(input: DnsPlanInput): PlannedRecord[] {
  return input.sendingIps.map((ip) => ({
    key: `ptr:${ip}`,
    purpose: `Reverse DNS of the platform's sending IP ${ip}`,
    type: 'PTR' as const,
    name: reverseName(ip),
    value: bare(input.ptrHostname),
    required: false,
    note: 'Informational: published by Mailroom in its reverse zone, nothing for you to add.',
  }));
}

function spfRecord(d: string, input: DnsPlanInput): PlannedRecord {
  const existing = input.existingSpf ?? [];
  const merged = mergeSpf(existing, input.spfInclude);
  const base = { key: 'spf', purpose: 'Authorises Mailroom to send for this domain (SPF)', type: 'TXT' as const };
  if (existing.length === 0) return { ...base, name: d, value: spfRecordFor(input.spfInclude), required: true };
  // RFC 7208 §3.2: a domain has at most one SPF record; a second one makes every check fail.
  const note =
    existing.length > 1
      ? `${d} has ${existing.length} SPF records: replace all of them with this single record.`
      : `${d} already has an SPF record: replace it with this one instead of adding a second.`;
  return { ...base, name: d, value: merged.record, required: true, note: [note, ...merged.notes].join(' ') };
}

function dmarcRecord(d: string, input: DnsPlanInput): PlannedRecord {
  const rua = asUri(input.dmarcRua);
  const ruaDomain = rua.slice(rua.lastIndexOf('@') + 1).toLowerCase();
  const external = ruaDomain !== d && !ruaDomain.endsWith(`.${d}`);
  return {
    key: 'dmarc',
    purpose: 'Tells receivers what to do with mail failing SPF and DKIM, and where to report (DMARC)',
    type: 'TXT',
    name: `_dmarc.${d}`,
    value: `v=DMARC1; p=${input.dmarcPolicy}; rua=${rua}`,
    required: false,
    // RFC 7489 §7.1: receivers only report to another domain when that domain consents in DNS.
    ...(external ? { note: `Reports go to ${ruaDomain}, which publishes ${d}._report._dmarc.${ruaDomain}.` } : {}),
  };
}

function srv(service: string, d: string, target: string, port: number, priority: number) {
  return {
    key: `srv:${service}`,
    purpose: `Lets mail clients find the ${service} server (RFC 6186)`,
    type: 'SRV' as const,
    name: `_${service}._tcp.${d}`,
    value: bare(target),
    priority,
    weight: 1,
    port,
    required: false,
  };
}

function cname(label: string, d: string, target: string, purpose: string) {
  return {
    key: `cname:${label}`,
    purpose,
    type: 'CNAME' as const,
    name: `${label}.${d}`,
    value: bare(target),
    required: false,
  };
}

/**
 * The MTA-STS policy file served at `https://mta-sts.<domain>/.well-known/mta-sts.txt`
 * (RFC 8461 §3.2): CRLF-terminated `key: value` lines; `max_age` is capped at one year.
 */
export function mtaStsPolicy(input: {
  mode: MtaStsMode;
  mxHostname: string | readonly string[];
  maxAge: number;
}): string {
  const mx = typeof input.mxHostname === 'string' ? [input.mxHostname] : input.mxHostname;
  const maxAge = Math.min(Math.max(Math.floor(input.maxAge), 0), 31_557_600);
  const lines = ['version: STSv1', `mode: ${input.mode}`, ...mx.map((h) => `mx: ${bare(h)}`), `max_age: ${maxAge}`];
  return lines.map((l) => `${l}\r\n`).join('');
}

/** A fresh MTA-STS policy id (RFC 8461 §3.1: 1-32 alphanumerics): the UTC time, `YYYYMMDDhhmmss`. */
export function mtaStsIdFor(date: Date): string {
  return date.toISOString().replace(/\D/g, '').slice(0, 14);
}

/** The reverse-DNS name of an IP address: `in-addr.arpa` (RFC 1035 §3.5) or `ip6.arpa` nibbles (RFC 3596 §2.5). */
export function reverseName(ip: string): string {
  const addr = ipaddr.parse(ip);
  if (addr.kind() === 'ipv4') return `${addr.toByteArray().reverse().join('.')}.in-addr.arpa`;
  const hex = addr
    .toByteArray()
    .map((b) => b.toString(16).padStart(2, '0'))
    .join('');
  return `${[...hex].reverse().join('.')}.ip6.arpa`;
}

function hostOf(name: string, domain: string): string {
  if (name === domain) return '@';
  return name.endsWith(`.${domain}`) ? name.slice(0, -domain.length - 1) : name;
}

function bare(host: string): string {
  return host.trim().toLowerCase().replace(/\.$/, '');
}

function asUri(address: string): string {
  return /^(mailto|https):/i.test(address) ? address : `mailto:${address}`;
}
