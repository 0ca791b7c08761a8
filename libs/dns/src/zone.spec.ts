import { describe, expect, it } from 'vitest';
import { buildDnsPlan, type DnsRecord } from './dns-plan';
import { planInput } from './testing/plan-fixture';
import { parseBindZone, renderBindZone, splitTxt } from './zone';

const record = (over: Partial<DnsRecord>): DnsRecord => ({
  key: 'k',
  purpose: 'p',
  type: 'TXT',
  name: 'example.com',
  host: '@',
  value: '',
  ttl: 300,
  required: false,
  status: 'pending',
  ...over,
});

describe('renderBindZone', () => {
  it.each([
    [record({ type: 'MX', value: 'mx.mailroom.test', priority: 10 }), 'example.com. 300 IN MX 10 mx.mailroom.test.'],
    [
      record({
        type: 'SRV',
        name: '_imaps._tcp.example.com',
        value: 'imap.mailroom.test',
        priority: 0,
        weight: 1,
        port: 993,
      }),
      '_imaps._tcp.example.com. 300 IN SRV 0 1 993 imap.mailroom.test.',
    ],
    [
      record({ type: 'CNAME', name: 'autoconfig.example.com', value: 'ac.mailroom.test' }),
      'autoconfig.example.com. 300 IN CNAME ac.mailroom.test.',
    ],
    [record({ value: 'v=spf1 -all' }), 'example.com. 300 IN TXT "v=spf1 -all"'],
    [record({ value: 'say "hi" \\ there' }), 'example.com. 300 IN TXT "say \\"hi\\" \\\\ there"'],
    [record({ value: 'tab\there é' }), 'example.com. 300 IN TXT "tab\\009here \\195\\169"'],
    [record({ value: '' }), 'example.com. 300 IN TXT ""'],
  ])('renders %#', (rec, line) => {
    expect(renderBindZone([rec]).split('\n')).toContain(line);
  });

  it('splits long TXT values into quoted strings of at most 255 bytes', () => {
    const value = `v=DKIM1; k=rsa; p=${'A'.repeat(600)}`;
    const line = renderBindZone([record({ value })]).split('\n')[1] ?? '';
    const strings = [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1] ?? '');
    expect(strings.map((s) => s.length)).toEqual([255, 255, 108]);
    expect(strings.join('')).toBe(value);
  });

  it('never splits inside a UTF-8 character', () => {
    const chunks = splitTxt(`${'a'.repeat(254)}é${'b'.repeat(10)}`);
    expect(chunks.map((c) => c.length)).toEqual([254, 12]);
    expect(Buffer.concat(chunks).toString('utf8')).toBe(`${'a'.repeat(254)}é${'b'.repeat(10)}`);
  });

  it('comments out PTR records, which live in the platform reverse zone', () => {
    const rec = record({ type: 'PTR', name: '10.2.0.192.in-addr.arpa', value: 'mx.mailroom.test' });
    expect(renderBindZone([rec])).toMatch(
      /^; \(informational, published by the platform\) 10\.2\.0\.192\.in-addr\.arpa\. 300 IN PTR mx\.mailroom\.test\.$/m,
    );
    expect(parseBindZone(renderBindZone([rec]))).toEqual([]);
  });
});

describe('parseBindZone', () => {
  it('reads back the whole plan it rendered (PTR aside)', () => {
    const plan = buildDnsPlan(planInput({ mtaStsHost: 'mta-sts.mailroom.test' }));
    const sut = parseBindZone(renderBindZone(plan));
    const shape = (r: { name: string; type: string; value: string; ttl: number; priority?: number; port?: number }) =>
      `${r.name} ${r.ttl} ${r.type} ${r.priority ?? ''} ${r.port ?? ''} ${r.value}`;
    const expected = plan.filter((r) => r.type !== 'PTR').map(shape);
    expect(sut.map(shape).sort()).toEqual(expected.sort());
  });

  it('reads $ORIGIN, $TTL, @, relative names, a repeated owner, units, class/TTL order and parentheses', () => {
    const zone = [
      '$ORIGIN example.com.',
      '$TTL 1h',
      '@ IN SOA ns1 hostmaster ( 2026110501 ; serial',
      '        7200 3600 1209600 300 )',
      '  IN NS ns1.example.net.',
      '  IN MX 10 mx.mailroom.test.',
      'www 300 IN CNAME @',
      'sel._domainkey IN 60 TXT ( "v=DKIM1; k=rsa; "',
      '                           "p=ABC" ) ; folded',
      '_imaps._tcp 1d SRV 0 1 993 imap',
      'plain TXT unquoted',
    ].join('\n');
    expect(parseBindZone(zone)).toEqual([
      { name: 'example.com', ttl: 3600, type: 'SOA', value: 'ns1 hostmaster 2026110501 7200 3600 1209600 300' },
      { name: 'example.com', ttl: 3600, type: 'NS', value: 'ns1.example.net' },
      { name: 'example.com', ttl: 3600, type: 'MX', priority: 10, value: 'mx.mailroom.test' },
      { name: 'www.example.com', ttl: 300, type: 'CNAME', value: 'example.com' },
      { name: 'sel._domainkey.example.com', ttl: 60, type: 'TXT', value: 'v=DKIM1; k=rsa; p=ABC' },
      {
        name: '_imaps._tcp.example.com',
        ttl: 86400,
        type: 'SRV',
        priority: 0,
        weight: 1,
        port: 993,
        value: 'imap.example.com',
      },
      { name: 'plain.example.com', ttl: 3600, type: 'TXT', value: 'unquoted' },
    ]);
  });

  it('decodes escapes, including a multibyte character split across strings', () => {
    const sut = parseBindZone('x.test. TXT "a\\"b\\\\c\\195" "\\169;d"');
    expect(sut[0]?.value).toBe('a"b\\cé;d');
  });

  it.each([
    ['  IN TXT "x"', /line 1: the first record has no owner/],
    ['x.test. IN', /line 1: no record type/],
    ['x.test. IN MX ten mx.test.', /ten is not a number/],
    ['x.test. IN MX 10', /MX is missing a field/],
    ['x.test. IN TXT "open', /unterminated string/],
    ['x.test. IN TXT ( "a"', /unbalanced "\("/],
    ['\nx.test. IN TXT "a" )', /line 2: unbalanced "\)"/],
    ['$INCLUDE other.zone', /\$INCLUDE is not supported/],
    ['x.test. IN 1bad "a"', /1BAD is not a record type/],
  ])('refuses %j', (zone, message) => {
    expect(() => parseBindZone(zone)).toThrow(message);
  });
});
