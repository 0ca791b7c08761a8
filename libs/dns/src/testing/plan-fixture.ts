import { buildDnsPlan, type DnsPlanInput, type DnsRecord } from '../dns-plan';
import { renderBindZone } from '../zone';

/** A stand-in 2048-bit-sized SPKI (392 base64 characters): long enough to need splitting. */
export const FAKE_DKIM_KEY = `MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEA${'x'.repeat(336)}IDAQAB`;

export function planInput(overrides: Partial<DnsPlanInput> = {}): DnsPlanInput {
  return {
    domain: 'example.com',
    ownershipToken: 'tok3n',
    mxHostname: 'mx.mailroom.test',
    spfInclude: 'spf.mailroom.test',
    dmarcPolicy: 'quarantine',
    dmarcRua: 'dmarc@reports.mailroom.test',
    dkim: [{ selector: 'mr202611a', publicKey: FAKE_DKIM_KEY, status: 'pending' }],
    mtaStsId: '20261101000000',
    mtaStsMode: 'testing',
    tlsRptRua: 'tls@reports.mailroom.test',
    clientHosts: { imap: 'imap.mailroom.test', pop3: 'pop.mailroom.test', submission: 'smtp.mailroom.test' },
    autoconfigTarget: 'autoconfig.mailroom.test',
    sendingIps: ['192.0.2.10'],
    ptrHostname: 'mx.mailroom.test',
    ttl: 3600,
    ...overrides,
  };
}

/** The platform's own records that the checks follow: our SPF include, the sending IP's PTR and its A. */
export const PLATFORM_ZONE = [
  'spf.mailroom.test. 300 IN TXT "v=spf1 ip4:192.0.2.0/24 -all"',
  '10.2.0.192.in-addr.arpa. 300 IN PTR mx.mailroom.test.',
  'mx.mailroom.test. 300 IN A 192.0.2.10',
].join('\n');

export function examplePlan(overrides: Partial<DnsPlanInput> = {}): DnsRecord[] {
  return buildDnsPlan(planInput(overrides));
}

/** The zone a tenant gets right, minus the `omit` record keys, plus `extra` lines. */
export function zoneFor(plan: readonly DnsRecord[], options: { omit?: string[]; extra?: string } = {}): string {
  const kept = plan.filter((r) => !(options.omit ?? []).includes(r.key));
  return `${renderBindZone(kept)}${PLATFORM_ZONE}\n${options.extra ?? ''}\n`;
}
