import { describe, expect, it } from 'vitest';
import { parseAddressList } from './address-list';
import { HeaderMap, splitHeaderFields } from './header-map';
import { messageSummaryFromHeaders } from './message-summary';
import { decodeEncodedWords } from './rfc2047';

describe('HeaderMap', () => {
  it('looks fields up by any case and keeps every occurrence in order', () => {
    const sut = new HeaderMap([
      ['Received', 'from a'],
      ['X-Spam', 'yes'],
      ['RECEIVED', 'from b'],
    ]);
    expect(sut.getAll('received')).toEqual(['from a', 'from b']);
    expect(sut.get('x-SPAM')).toBe('yes');
    expect(sut.has('List-Id')).toBe(false);
    expect(sut.getAll('List-Id')).toEqual([]);
  });
});

describe('splitHeaderFields', () => {
  it('unfolds continuation lines and stops at the body', () => {
    const raw = 'Subject: a long\r\n  subject line\r\nTo: a@x.test,\r\n\tb@x.test\r\n\r\nBody: not a header\r\n';
    expect(splitHeaderFields(raw)).toEqual([
      ['Subject', 'a long  subject line'],
      ['To', 'a@x.test,\tb@x.test'],
    ]);
  });

  it('accepts bare LF, white space before the colon, and skips lines that are not fields', () => {
    const raw = 'From sender@x.test Mon Jan  1 00:00:00 2024\nSubject : hi\n garbage\nnot a field\nX-A: 1';
    expect(splitHeaderFields(raw)).toEqual([
      ['Subject', 'hi garbage'],
      ['X-A', '1'],
    ]);
  });
});

describe('decodeEncodedWords', () => {
  it.each([
    ['plain text', 'plain text'],
    ['=?utf-8?B?SGVsbG8gV8O2cmxk?=', 'Hello Wörld'],
    ['=?UTF-8?Q?Caf=C3=A9_au_lait?=', 'Café au lait'],
    ['=?iso-8859-1?q?r=E9sum=E9?=', 'résumé'],
    ['Re: =?utf-8?q?caf=C3=A9?= today', 'Re: café today'],
    // White space between adjacent encoded-words disappears (RFC 2047 §6.2).
    ['=?utf-8?q?a?= =?utf-8?q?b?=', 'ab'],
    // A multi-byte character split across two words.
    ['=?utf-8?B?w6k=?= =?utf-8?B?w6k=?=', 'éé'],
    ['=?utf-8*en?q?hi?=', 'hi'],
    ['=?x-unknown?q?abc?=', '=?x-unknown?q?abc?='],
  ])('%j → %j', (input, expected) => {
    expect(decodeEncodedWords(input)).toBe(expected);
  });
});

describe('parseAddressList', () => {
  it.each([
    ['alice@example.com', [{ name: '', address: 'alice@example.com' }]],
    ['Alice <alice@example.com>', [{ name: 'Alice', address: 'alice@example.com' }]],
    [
      '"Smith, John" <john@example.com>, bob@example.com',
      [
        { name: 'Smith, John', address: 'john@example.com' },
        { name: '', address: 'bob@example.com' },
      ],
    ],
    ['john@example.com (John Smith)', [{ name: 'John Smith', address: 'john@example.com' }]],
    [
      'team: a@example.com, B <b@example.com>;, c@example.com',
      [
        { name: '', address: 'a@example.com' },
        { name: 'B', address: 'b@example.com' },
        { name: '', address: 'c@example.com' },
      ],
    ],
    ['undisclosed-recipients:;', []],
    ['=?utf-8?q?M=C3=BCller=2C_Jo?= <jo@example.de>', [{ name: 'Müller, Jo', address: 'jo@example.de' }]],
    ['<@relay.example:user@example.com>', [{ name: '', address: 'user@example.com' }]],
    ['"quoted \\" name" <q@example.com>', [{ name: 'quoted " name', address: 'q@example.com' }]],
    ['', []],
  ])('%j', (input, expected) => {
    expect(parseAddressList(input)).toEqual(expected);
  });
});

describe('messageSummaryFromHeaders', () => {
  const raw = [
    'Authentication-Results: attacker.example; spf=pass; dkim=pass; dmarc=pass',
    'Authentication-Results: mx.mailroom.test 1; spf=softfail smtp.mailfrom=x.test;',
    ' dkim=fail (signature did not verify; dmarc=pass in a comment) header.d=x.test;',
    ' dkim=pass header.d=esp.test; dmarc=fail header.from=x.test',
    'From: =?utf-8?q?Ren=C3=A9?= <rene@x.test>',
    'To: a@example.com, "B" <b@example.com>',
    'Cc: c@example.com',
    'Subject: =?utf-8?B?UmVjaG51bmc=?= 42',
    'Content-Type: multipart/mixed; boundary="b1"',
    '',
    'body',
  ].join('\r\n');

  it('builds addresses, decoded subject and headers', () => {
    const sut = messageSummaryFromHeaders(raw, 2048);
    expect(sut.from).toEqual([{ name: 'René', address: 'rene@x.test' }]);
    expect(sut.to.map((a) => a.address)).toEqual(['a@example.com', 'b@example.com']);
    expect(sut.cc).toEqual([{ name: '', address: 'c@example.com' }]);
    expect(sut.subject).toBe('Rechnung 42');
    expect(sut.headers.get('SUBJECT')).toBe('Rechnung 42');
    expect(sut.size).toBe(2048);
  });

  it('guesses an attachment from multipart/mixed unless told', () => {
    expect(messageSummaryFromHeaders(raw, 1).hasAttachment).toBe(true);
    expect(messageSummaryFromHeaders(raw, 1, { hasAttachment: false }).hasAttachment).toBe(false);
    expect(messageSummaryFromHeaders('Content-Type: multipart/alternative', 1).hasAttachment).toBe(false);
  });

  it('ignores Authentication-Results unless they carry our authserv-id', () => {
    expect(messageSummaryFromHeaders(raw, 1).auth).toEqual({ spf: 'none', dkim: 'none', dmarc: 'none' });
    expect(messageSummaryFromHeaders(raw, 1, { trustedAuthservId: 'MX.mailroom.test' }).auth).toEqual({
      spf: 'softfail',
      dkim: 'pass',
      dmarc: 'fail',
    });
  });

  it('lets explicit verdicts win over the header', () => {
    const sut = messageSummaryFromHeaders(raw, 1, {
      trustedAuthservId: 'mx.mailroom.test',
      auth: { dmarc: 'pass' },
      spamScore: 7.5,
      spamVerdict: 'spam',
    });
    expect(sut.auth).toEqual({ spf: 'softfail', dkim: 'pass', dmarc: 'pass' });
    expect([sut.spamScore, sut.spamVerdict]).toEqual([7.5, 'spam']);
  });

  it('gives empty values for a message without those headers', () => {
    const sut = messageSummaryFromHeaders('X-Only: 1', 10);
    expect([sut.from, sut.to, sut.cc, sut.subject, sut.spamScore, sut.spamVerdict]).toEqual([
      [],
      [],
      [],
      '',
      null,
      null,
    ]);
  });
});
