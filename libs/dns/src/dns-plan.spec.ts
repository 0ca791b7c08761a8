import { describe, expect, it } from 'vitest';
import { buildDnsPlan, mtaStsIdFor, mtaStsPolicy, reverseName } from './dns-plan';
import { FAKE_DKIM_KEY, planInput } from './testing/plan-fixture';

describe('buildDnsPlan', () => {
  const sut = buildDnsPlan(planInput());
  const byKey = (key: string) => sut.find((r) => r.key === key);

  it('lists every record in a fixed order', () => {
    expect(sut.map((r) => r.key)).toEqual([
      'ownership',
      'mx',
      'spf',
      'dkim:mr202611a',
      'dmarc',
      'mta-sts',
      'tls-rpt',
      'srv:submission',
      'srv:imaps',
      'srv:pop3s',
      'cname:autoconfig',
      'cname:autodiscover',
      'ptr:192.0.2.10',
    ]);
  });

  it.each([
    ['ownership', 'TXT', '_mailroom-verify.example.com', '_mailroom-verify', 'mailroom-verify=tok3n'],
    ['mx', 'MX', 'example.com', '@', 'mx.mailroom.test'],
    ['spf', 'TXT', 'example.com', '@', 'v=spf1 include:spf.mailroom.test -all'],
    [
      'dkim:mr202611a',
      'TXT',
      'mr202611a._domainkey.example.com',
      'mr202611a._domainkey',
      `v=DKIM1; k=rsa; p=${FAKE_DKIM_KEY}`,
    ],
    ['dmarc', 'TXT', '_dmarc.example.com', '_dmarc', 'v=DMARC1; p=quarantine; rua=mailto:dmarc@reports.mailroom.test'],
    ['mta-sts', 'TXT', '_mta-sts.example.com', '_mta-sts', 'v=STSv1; id=20261101000000'],
    ['tls-rpt', 'TXT', '_smtp._tls.example.com', '_smtp._tls', 'v=TLSRPTv1; rua=mailto:tls@reports.mailroom.test'],
    ['srv:submission', 'SRV', '_submission._tcp.example.com', '_submission._tcp', 'smtp.mailroom.test'],
    ['srv:imaps', 'SRV', '_imaps._tcp.example.com', '_imaps._tcp', 'imap.mailroom.test'],
    ['srv:pop3s', 'SRV', '_pop3s._tcp.example.com', '_pop3s._tcp', 'pop.mailroom.test'],
    ['cname:autoconfig', 'CNAME', 'autoconfig.example.com', 'autoconfig', 'autoconfig.mailroom.test'],
    ['cname:autodiscover', 'CNAME', 'autodiscover.example.com', 'autodiscover', 'autoconfig.mailroom.test'],
    ['ptr:192.0.2.10', 'PTR', '10.2.0.192.in-addr.arpa', '10.2.0.192.in-addr.arpa', 'mx.mailroom.test'],
  ])('plans %s as %s %s (%s) %s', (key, type, name, host, value) => {
    expect(byKey(key)).toMatchObject({ type, name, host, value, ttl: 3600, status: 'pending' });
  });

  it('gives MX preference 10 and tells to remove the other MX records', () => {
    expect(byKey('mx')).toMatchObject({ priority: 10, required: true });
    expect(byKey('mx')?.note).toMatch(/Remove every other MX record of example\.com/);
  });

  it.each([
    ['srv:submission', 0, 1, 587],
    ['srv:imaps', 0, 1, 993],
    ['srv:pop3s', 10, 1, 995],
  ])('gives %s priority %i, weight %i, port %i (RFC 6186)', (key, priority, weight, port) => {
    expect(byKey(key)).toMatchObject({ priority, weight, port });
  });

  it('names the ports clients reach when they are not the standard ones', () => {
    const plan = buildDnsPlan(
      planInput({ clientPorts: { imaps: 1993, pop3s: 1995, submission: 2587, submissions: 2465 } }),
    );
    const port = (key: string) => plan.find((r) => r.key === key)?.port;
    expect([port('srv:submission'), port('srv:imaps'), port('srv:pop3s')]).toEqual([2587, 1993, 1995]);
  });

  it('marks ownership, MX, SPF and the signing DKIM key required, the rest recommended', () => {
    expect(sut.filter((r) => r.required).map((r) => r.key)).toEqual(['ownership', 'mx', 'spf', 'dkim:mr202611a']);
  });

  it('notes that the DKIM value needs splitting, and that reports go to another domain', () => {
    expect(byKey('dkim:mr202611a')?.note).toMatch(/255 bytes/);
    expect(byKey('dmarc')?.note).toBe(
      'Reports go to reports.mailroom.test, which publishes example.com._report._dmarc.reports.mailroom.test.',
    );
  });

  it('publishes active, pending and retiring DKIM keys, and counts only the signing ones', () => {
    const plan = buildDnsPlan(
      planInput({
        dkim: [
          { selector: 'mr202601a', publicKey: 'OLD', status: 'retired' },
          { selector: 'mr202606a', publicKey: 'RETIRING', status: 'retiring' },
          { selector: 'mr202611a', publicKey: 'ACTIVE', status: 'active' },
          { selector: 'mr202611b', publicKey: 'NEW', status: 'pending' },
        ],
      }),
    );
    const dkim = plan.filter((r) => r.key.startsWith('dkim:'));
    expect(dkim.map((r) => [r.key, r.required, r.keyStatus])).toEqual([
      ['dkim:mr202606a', false, 'retiring'],
      ['dkim:mr202611a', true, 'active'],
      ['dkim:mr202611b', true, 'pending'],
    ]);
    expect(dkim.every((r) => r.note === undefined)).toBe(true);
  });

  it('proposes one merged SPF record when the domain already has SPF', () => {
    const one = buildDnsPlan(planInput({ existingSpf: ['v=spf1 include:_spf.google.com ~all'] }));
    expect(one.find((r) => r.key === 'spf')).toMatchObject({
      value: 'v=spf1 include:_spf.google.com include:spf.mailroom.test ~all',
      note: 'example.com already has an SPF record: replace it with this one instead of adding a second.',
    });
    const two = buildDnsPlan(planInput({ existingSpf: ['v=spf1 mx -all', 'v=spf1 a ~all'] }));
    expect(two.find((r) => r.key === 'spf')?.value).toBe('v=spf1 mx a include:spf.mailroom.test -all');
    expect(two.find((r) => r.key === 'spf')?.note).toMatch(/has 2 SPF records: replace all of them/);
  });

  it('adds the mta-sts CNAME when the platform serves policies, and carries check statuses', () => {
    const plan = buildDnsPlan(
      planInput({ mtaStsHost: 'mta-sts.mailroom.test.', checks: { mx: 'ok', spf: 'mismatch' } }),
    );
    expect(plan.find((r) => r.key === 'cname:mta-sts')).toMatchObject({
      name: 'mta-sts.example.com',
      value: 'mta-sts.mailroom.test',
    });
    expect(plan.find((r) => r.key === 'mx')?.status).toBe('ok');
    expect(plan.find((r) => r.key === 'spf')?.status).toBe('mismatch');
    expect(plan.find((r) => r.key === 'dmarc')?.status).toBe('pending');
  });

  it('takes mailto: and https: report addresses as given', () => {
    const plan = buildDnsPlan(
      planInput({ dmarcRua: 'mailto:d@example.com', tlsRptRua: 'https://reports.mailroom.test/tls' }),
    );
    expect(plan.find((r) => r.key === 'dmarc')).toMatchObject({
      value: 'v=DMARC1; p=quarantine; rua=mailto:d@example.com',
    });
    expect(plan.find((r) => r.key === 'dmarc')?.note).toBeUndefined();
    expect(plan.find((r) => r.key === 'tls-rpt')?.value).toBe('v=TLSRPTv1; rua=https://reports.mailroom.test/tls');
  });

  it('refuses an MTA-STS id that RFC 8461 §3.1 does not allow', () => {
    expect(() => buildDnsPlan(planInput({ mtaStsId: 'has-dash' }))).toThrow(/mtaStsId/);
    expect(() => buildDnsPlan(planInput({ mtaStsId: 'x'.repeat(33) }))).toThrow(/mtaStsId/);
  });
});

describe('MTA-STS', () => {
  it('writes the policy file with CRLF lines (RFC 8461 §3.2)', () => {
    expect(mtaStsPolicy({ mode: 'enforce', mxHostname: 'mx.mailroom.test', maxAge: 604800 })).toBe(
      'version: STSv1\r\nmode: enforce\r\nmx: mx.mailroom.test\r\nmax_age: 604800\r\n',
    );
  });

  it('lists several MX hosts and caps max_age at one year', () => {
    const sut = mtaStsPolicy({ mode: 'testing', mxHostname: ['mx1.mailroom.test.', '*.mailroom.test'], maxAge: 1e9 });
    expect(sut).toBe(
      'version: STSv1\r\nmode: testing\r\nmx: mx1.mailroom.test\r\nmx: *.mailroom.test\r\nmax_age: 31557600\r\n',
    );
  });

  it('makes ids of 14 digits from the UTC time', () => {
    expect(mtaStsIdFor(new Date('2026-11-05T08:09:10.123Z'))).toBe('20261105080910');
  });
});

describe('reverseName', () => {
  it.each([
    ['192.0.2.10', '10.2.0.192.in-addr.arpa'],
    ['2001:db8::1', '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa'],
  ])('%s → %s', (ip, name) => {
    expect(reverseName(ip)).toBe(name);
  });
});
