import { describe, expect, it } from 'vitest';
import { checkDomainDns } from './dns-check';
import type { DnsCheckResult } from './dns-check-result';
import { examplePlan, zoneFor } from './testing/plan-fixture';
import { zoneResolver } from './testing/zone-resolver';

const options = { spfInclude: 'spf.mailroom.test' };
const plan = examplePlan();

async function check(zone: string, failures: Record<string, string> = {}): Promise<Map<string, DnsCheckResult>> {
  const results = await checkDomainDns(plan, zoneResolver(zone, failures), options);
  return new Map(results.map((r) => [r.key, r]));
}

describe('checkDomainDns (in-memory resolver)', () => {
  it('finds every record of a correct zone ok', async () => {
    const sut = await check(zoneFor(plan));
    expect([...sut.values()].filter((r) => r.status !== 'ok')).toEqual([]);
    expect(sut.get('mx')).toMatchObject({ expected: '10 mx.mailroom.test', found: ['10 mx.mailroom.test'] });
    expect(sut.get('srv:imaps')).toMatchObject({
      expected: '0 1 993 imap.mailroom.test',
      found: ['0 1 993 imap.mailroom.test'],
    });
    expect(sut.get('spf')?.message).toMatch(/\(1 of 10 DNS lookups\)/);
  });

  it.each([
    ['ownership', ['ownership'], '', 'missing', /no TXT record at _mailroom-verify\.example\.com/],
    ['ownership', ['ownership'], '_mailroom-verify.example.com. TXT "mailroom-verify=old"', 'mismatch', /old token/],
    ['mx', ['mx'], '', 'missing', /no MX record/],
    [
      'mx',
      [],
      'example.com. MX 0 example.com.',
      'mismatch',
      /"MX 0 example\.com\." is a leftover that senders try before Mailroom/,
    ],
    [
      'mx',
      [],
      'example.com. MX 20 backup.provider.test.',
      'mismatch',
      /"MX 20 backup\.provider\.test\." is a leftover that receives mail whenever/,
    ],
    ['mx', ['mx'], 'example.com. MX 10 192.0.2.1.', 'mismatch', /"MX 10 192\.0\.2\.1\." names an IP address/],
    [
      'mx',
      ['mx'],
      'example.com. MX 10 mail.example.com.\nmail.example.com. CNAME mx.mailroom.test.',
      'mismatch',
      /a CNAME to mx\.mailroom\.test, but an MX must not point at an alias/,
    ],
    ['mx', ['mx'], 'example.com. MX 0 .', 'mismatch', /null MX/],
    ['spf', ['spf'], '', 'missing', /has no SPF record: publish "v=spf1 include:spf\.mailroom\.test -all"/],
    [
      'spf',
      [],
      'example.com. TXT "v=spf1 mx -all"',
      'mismatch',
      /has 2 SPF records.*"v=spf1 include:spf\.mailroom\.test mx -all"/,
    ],
    [
      'spf',
      ['spf'],
      'example.com. TXT "v=spf1 include:_spf.google.com ~all"\n_spf.google.com. TXT "v=spf1 -all"',
      'mismatch',
      /does not include spf\.mailroom\.test: replace it with "v=spf1 include:_spf\.google\.com include:spf\.mailroom\.test ~all"/,
    ],
    ['spf', ['spf'], 'example.com. TXT "v=spf1 include:spf.mailroom.test +all"', 'mismatch', /\+all/],
    ['spf', ['spf'], 'example.com. TXT "v=spf1 include:spf.mailroom.test bogus -all"', 'mismatch', /malformed/],
    [
      'spf',
      ['spf'],
      'example.com. TXT "v=spf1 include:spf.mailroom.test include:gone.test -all"',
      'mismatch',
      /gone\.test does not exist/,
    ],
    ['dkim:mr202611a', ['dkim:mr202611a'], '', 'missing', /no DKIM key at mr202611a\._domainkey\.example\.com/],
    [
      'dkim:mr202611a',
      ['dkim:mr202611a'],
      'mr202611a._domainkey.example.com. TXT "v=DKIM1; k=rsa; p=MIIBother"',
      'mismatch',
      /DKIM key mismatch/,
    ],
    [
      'dkim:mr202611a',
      ['dkim:mr202611a'],
      'mr202611a._domainkey.example.com. TXT "v=DKIM1; k=rsa; p=MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEAxxx"',
      'mismatch',
      /cut short/,
    ],
    [
      'dkim:mr202611a',
      ['dkim:mr202611a'],
      'mr202611a._domainkey.example.com. TXT "v=DKIM1; p="',
      'mismatch',
      /revoked/,
    ],
    ['dmarc', ['dmarc'], '', 'missing', /no DMARC record/],
    [
      'dmarc',
      ['dmarc'],
      '_dmarc.example.com. TXT "p=reject; v=DMARC1"',
      'mismatch',
      /malformed: it must start with "v=DMARC1;"/,
    ],
    ['dmarc', ['dmarc'], '_dmarc.example.com. TXT "v=DMARC1; p=block"', 'mismatch', /malformed: p= must be/],
    [
      'dmarc',
      ['dmarc'],
      '_dmarc.example.com. TXT "v=DMARC1; p=none; rua=mailto:dmarc@reports.mailroom.test"',
      'mismatch',
      /p=none, weaker than the planned p=quarantine/,
    ],
    [
      'dmarc',
      ['dmarc'],
      '_dmarc.example.com. TXT "v=DMARC1; p=reject; rua=mailto:me@example.com"',
      'mismatch',
      /does not send aggregate reports to mailto:dmarc@reports\.mailroom\.test/,
    ],
    [
      'dmarc',
      ['dmarc'],
      '_dmarc.example.com. TXT "v=DMARC1; p=reject; rua=mailto:me@example.com,mailto:dmarc@reports.mailroom.test!10m"',
      'ok',
      /valid \(p=reject\)/,
    ],
    [
      'mta-sts',
      ['mta-sts'],
      '_mta-sts.example.com. TXT "v=STSv1; id=2025"',
      'mismatch',
      /id=2025, not 20261101000000: senders keep their cached policy/,
    ],
    [
      'tls-rpt',
      [],
      '_smtp._tls.example.com. TXT "v=TLSRPTv1; rua=mailto:x@example.com"',
      'mismatch',
      /2 v=TLSRPTv1 records/,
    ],
    [
      'srv:imaps',
      ['srv:imaps'],
      '_imaps._tcp.example.com. SRV 0 1 143 imap.mailroom.test.',
      'mismatch',
      /not port 993 imap\.mailroom\.test/,
    ],
    ['srv:pop3s', ['srv:pop3s'], '_pop3s._tcp.example.com. SRV 0 0 0 .', 'mismatch', /not offered/],
    [
      'cname:autoconfig',
      ['cname:autoconfig'],
      'autoconfig.example.com. A 192.0.2.99',
      'mismatch',
      /address record instead of a CNAME/,
    ],
    ['cname:autodiscover', ['cname:autodiscover'], '', 'missing', /no CNAME at autodiscover\.example\.com/],
  ])('%s with %j omitted and %j added is %s', async (key, omit, extra, status, message) => {
    const sut = (await check(zoneFor(plan, { omit, extra }))).get(key);
    expect(sut?.status).toBe(status);
    expect(sut?.message).toMatch(message);
  });

  it.each([
    ['no PTR', zoneFor(plan).replace(/^10\.2\.0\.192.*$/m, ''), 'missing', /no PTR record/],
    [
      'another PTR',
      zoneFor(plan).replace(/^(10\.2\.0\.192.*PTR) .*$/m, '$1 host.isp.test.'),
      'mismatch',
      /is host\.isp\.test, not mx\.mailroom\.test/,
    ],
    [
      'a PTR not resolving back',
      zoneFor(plan).replace('IN A 192.0.2.10', 'IN A 192.0.2.77'),
      'mismatch',
      /does not resolve back to 192\.0\.2\.10/,
    ],
  ])('reports %s', async (_what, zone, status, message) => {
    const sut = (await check(zone)).get('ptr:192.0.2.10');
    expect(sut).toMatchObject({ status });
    expect(sut?.message).toMatch(message);
  });

  it.each(['ETIMEOUT', 'ESERVFAIL', 'ECONNREFUSED', 'EREFUSED', 'EBADRESP'])(
    'reports %s as "could not check", never missing',
    async (code) => {
      const sut = await check('', { 'example.com': code, '_dmarc.example.com': code, '10.2.0.192.in-addr.arpa': code });
      for (const key of ['mx', 'spf', 'dmarc', 'ptr:192.0.2.10']) {
        expect(sut.get(key)).toMatchObject({ status: 'error', found: [] });
        expect(sut.get(key)?.message).toMatch(/^Could not check/);
      }
      expect(sut.get('ownership')?.status).toBe('missing');
    },
  );

  it('reports an SPF include that times out as "could not check"', async () => {
    const zone = zoneFor(plan, {
      omit: ['spf'],
      extra: 'example.com. TXT "v=spf1 include:spf.mailroom.test include:slow.test -all"',
    });
    const sut = (await check(zone, { 'slow.test': 'ETIMEOUT' })).get('spf');
    expect(sut?.status).toBe('error');
    expect(sut?.message).toMatch(/could not look up slow\.test \(ETIMEOUT\)/);
  });
});
