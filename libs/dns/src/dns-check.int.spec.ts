import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generateDkimKeyPair } from './dkim-key';
import { checkDomainDns } from './dns-check';
import type { DnsCheckResult } from './dns-check-result';
import type { DnsRecord } from './dns-plan';
import { createNodeResolver } from './dns-resolver';
import { nextDomainStatus, type DomainStatus } from './domain-status';
import { examplePlan, zoneFor } from './testing/plan-fixture';
import { LocalDnsServer, startSilentServer } from './testing/local-dns-server';

// A real DNS server (dns2 over UDP on 127.0.0.1) and node's c-ares resolver pointed only at it.
// 300 ms and one try keep the timeout cases short.
const TIMEOUT_MS = 300;
const options = { spfInclude: 'spf.mailroom.test' };

describe('checkDomainDns through a real DNS server', () => {
  let server: LocalDnsServer;
  let plan: DnsRecord[];
  let otherKey: string;

  beforeAll(async () => {
    const [ours, other] = await Promise.all([generateDkimKeyPair(), generateDkimKeyPair()]);
    otherKey = other.publicKey;
    plan = examplePlan({ dkim: [{ selector: 'mr202611a', publicKey: ours.publicKey, status: 'pending' }] });
    server = await LocalDnsServer.start();
  });
  afterAll(() => server.close());

  async function check(zone: string, servfail: string[] = []): Promise<Map<string, DnsCheckResult>> {
    server.serve(zone, servfail);
    const resolver = createNodeResolver([{ host: '127.0.0.1', port: server.port }], TIMEOUT_MS, 1);
    const results = await checkDomainDns(plan, resolver, options);
    return new Map(results.map((r) => [r.key, r]));
  }

  it('finds every record of a correct zone ok, the 2048-bit DKIM key split in strings included', async () => {
    const sut = await check(zoneFor(plan));
    expect([...sut.values()].filter((r) => r.status !== 'ok')).toEqual([]);
    expect(sut.size).toBe(plan.length);
  });

  it('names a leftover "MX 0 example.com." as the mismatch', async () => {
    const sut = (await check(zoneFor(plan, { extra: 'example.com. 300 IN MX 0 example.com.' }))).get('mx');
    expect(sut).toMatchObject({ status: 'mismatch', found: ['0 example.com', '10 mx.mailroom.test'] });
    expect(sut?.message).toContain('"MX 0 example.com." is a leftover that senders try before Mailroom');
  });

  it.each([
    ['an IP address', 'example.com. IN MX 10 192.0.2.1.', /"MX 10 192\.0\.2\.1\." names an IP address/],
    [
      'a CNAME',
      'example.com. IN MX 10 mail.example.com.\nmail.example.com. IN CNAME mx.mailroom.test.',
      /"MX 10 mail\.example\.com\." names mail\.example\.com, a CNAME to mx\.mailroom\.test, but an MX must not point at an alias/,
    ],
  ])('refuses an MX naming %s', async (_what, extra, message) => {
    const sut = (await check(zoneFor(plan, { omit: ['mx'], extra }))).get('mx');
    expect(sut?.status).toBe('mismatch');
    expect(sut?.message).toMatch(message);
  });

  it('finds two SPF records and proposes the single merged one', async () => {
    const sut = (
      await check(zoneFor(plan, { extra: 'example.com. IN TXT "v=spf1 include:_spf.provider.test ~all"' }))
    ).get('spf');
    expect(sut?.status).toBe('mismatch');
    expect(sut?.found).toHaveLength(2);
    expect(sut?.message).toContain('has 2 SPF records');
    expect(sut?.message).toContain('"v=spf1 include:spf.mailroom.test include:_spf.provider.test -all"');
  });

  it('counts SPF lookups through nested includes served by the same server', async () => {
    const extra = [
      'example.com. IN TXT "v=spf1 include:spf.mailroom.test include:a.provider.test mx -all"',
      'a.provider.test. IN TXT "v=spf1 include:b.provider.test include:c.provider.test a -all"',
      'b.provider.test. IN TXT "v=spf1 a mx ptr exists:%{i}.x.test -all"',
      'c.provider.test. IN TXT "v=spf1 include:d.provider.test mx -all"',
      'd.provider.test. IN TXT "v=spf1 a mx -all"',
    ].join('\n');
    // 3 here + 3 in a + 4 in b + 2 in c + 2 in d; spf.mailroom.test has only ip4 (no lookup).
    const sut = (await check(zoneFor(plan, { omit: ['spf'], extra }))).get('spf');
    expect(sut?.status).toBe('mismatch');
    expect(sut?.message).toMatch(/needs 14 DNS lookups, over the limit of 10 \(RFC 7208 §4\.6\.4\)/);
  });

  it.each([
    ['missing', '', 'missing', /no DMARC record/],
    ['malformed', '_dmarc.example.com. IN TXT "v=DMARC1 p=reject"', 'mismatch', /malformed/],
    [
      'without v=DMARC1 first',
      '_dmarc.example.com. IN TXT "p=reject; v=DMARC1"',
      'mismatch',
      /must start with "v=DMARC1;"/,
    ],
  ])('reports DMARC %s', async (_what, extra, status, message) => {
    const sut = (await check(zoneFor(plan, { omit: ['dmarc'], extra }))).get('dmarc');
    expect(sut?.status).toBe(status);
    expect(sut?.message).toMatch(message);
  });

  it('reports a DKIM key that is not ours', async () => {
    const extra = `mr202611a._domainkey.example.com. IN TXT "v=DKIM1; k=rsa; p=${otherKey.slice(0, 200)}" "${otherKey.slice(200)}"`;
    const sut = (await check(zoneFor(plan, { omit: ['dkim:mr202611a'], extra }))).get('dkim:mr202611a');
    expect(sut?.status).toBe('mismatch');
    expect(sut?.message).toMatch(/^DKIM key mismatch at mr202611a\._domainkey\.example\.com/);
  });

  it.each([
    [
      'missing',
      (z: string) => z.replace(/^10\.2\.0\.192\.in-addr\.arpa\..*$/m, ''),
      'missing',
      /192\.0\.2\.10 has no PTR record/,
    ],
    [
      'not resolving back',
      (z: string) => z.replace(/^mx\.mailroom\.test\. 300 IN A .*$/m, 'mx.mailroom.test. IN A 198.51.100.7'),
      'mismatch',
      /does not resolve back to 192\.0\.2\.10/,
    ],
  ])('reports a PTR %s', async (_what, edit, status, message) => {
    const sut = (await check(edit(zoneFor(plan)))).get('ptr:192.0.2.10');
    expect(sut?.status).toBe(status);
    expect(sut?.message).toMatch(message);
  });

  it('reports names answered with SERVFAIL as "could not check", never missing', async () => {
    const sut = await check(zoneFor(plan), ['_dmarc.example.com', 'example.com']);
    for (const key of ['dmarc', 'mx', 'spf']) {
      expect(sut.get(key)).toMatchObject({ status: 'error', found: [] });
      expect(sut.get(key)?.message).toMatch(/answered SERVFAIL/);
    }
    expect(sut.get('ownership')?.status).toBe('ok');
  });

  it('reports a server that never answers as "could not check" on every record', async () => {
    const silent = await startSilentServer();
    try {
      const resolver = createNodeResolver([{ host: '127.0.0.1', port: silent.port }], TIMEOUT_MS, 1);
      const results = await checkDomainDns(plan, resolver, options);
      expect(results.map((r) => r.status)).toEqual(plan.map(() => 'error'));
      expect(results.every((r) => /did not answer in time/.test(r.message))).toBe(true);
      expect(nextDomainStatus('active', results)).toBe('active');
    } finally {
      await silent.close();
    }
  });

  it('walks the lifecycle pending → verified → active → degraded → active as the zone changes', async () => {
    const steps: [string, string][] = [
      ['nothing published', ''],
      ['ownership only', zoneFor(plan, { omit: plan.filter((r) => r.key !== 'ownership').map((r) => r.key) })],
      ['everything', zoneFor(plan)],
      ['a provider MX put back', zoneFor(plan, { extra: 'example.com. IN MX 0 example.com.' })],
      ['fixed', zoneFor(plan)],
    ];
    let status: DomainStatus = 'pending';
    const seen: DomainStatus[] = [];
    for (const [, zone] of steps) {
      status = nextDomainStatus(status, [...(await check(zone)).values()]);
      seen.push(status);
    }
    expect(seen).toEqual(['pending', 'verified', 'active', 'degraded', 'active']);
  });
});
