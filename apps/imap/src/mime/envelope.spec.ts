import { describe, expect, it } from 'vitest';
import { parseAddressList } from './address-list';
import { envelope } from './envelope';
import { parseMimeStructure } from './mime-parser';
import { chunked } from './testing/fixture-source';

const addr = (name: string | null, mailbox: string | null, host: string | null, adl: string | null = null) => ({
  name,
  adl,
  mailbox,
  host,
});

describe('parseAddressList', () => {
  it.each([
    ['plain address', 'bob@example.net', [addr(null, 'bob', 'example.net')]],
    ['quoted name with comma', '"Dave, Jr." <dave@example.net>', [addr('Dave, Jr.', 'dave', 'example.net')]],
    ['encoded word passed through', '=?UTF-8?B?w6k=?= <e@x.org>', [addr('=?UTF-8?B?w6k=?=', 'e', 'x.org')]],
    ['comment names a bare address', 'a@b.c (Alice) (last)', [addr('last', 'a', 'b.c')]],
    [
      'source route as adl',
      '<@relay.example,@r2.example:joe@x.org>',
      [addr(null, 'joe', 'x.org', '@relay.example,@r2.example')],
    ],
    ['quoted local part unquoted', '"john smith"@x.org', [addr(null, 'john smith', 'x.org')]],
    ['missing domain', 'broken', [addr(null, 'broken', 'MISSING_DOMAIN')]],
    ['empty angle brackets', 'Nobody <>', [addr('Nobody', 'MISSING_MAILBOX', 'MISSING_DOMAIN')]],
    ['empty group', 'undisclosed-recipients:;', [addr(null, 'undisclosed-recipients', null), addr(null, null, null)]],
    [
      'group then address',
      'Friends: a@x.org, "B" <b@x.org>;, c@y.org',
      [
        addr(null, 'Friends', null),
        addr(null, 'a', 'x.org'),
        addr('B', 'b', 'x.org'),
        addr(null, null, null),
        addr(null, 'c', 'y.org'),
      ],
    ],
    [
      'unterminated group closed',
      'G: a@x.org',
      [addr(null, 'G', null), addr(null, 'a', 'x.org'), addr(null, null, null)],
    ],
    ['empty list', ' ', []],
  ])('%s', (_name, input, expected) => {
    expect(parseAddressList(input)).toEqual(expected);
  });
});

describe('envelope', () => {
  const of = async (text: string) => envelope(await parseMimeStructure(chunked(Buffer.from(text))));

  it('defaults Sender and Reply-To to From and leaves absent fields NIL (RFC 3501 7.4.2)', async () => {
    const sut = await of('From: A <a@x.org>\r\nSubject: \r\n\r\n');
    expect(sut).toEqual([
      null,
      '',
      [['A', null, 'a', 'x.org']],
      [['A', null, 'a', 'x.org']],
      [['A', null, 'a', 'x.org']],
      null,
      null,
      null,
      null,
      null,
    ]);
  });

  it('unfolds values without decoding them, keeping the indent of folded lines as Dovecot does', async () => {
    const sut = (await of('Subject: =?utf-8?q?a?=\r\n\tb\r\nMessage-ID:\r\n <id@x>\r\n\r\n')) as unknown[];
    expect(sut[1]).toBe('=?utf-8?q?a?= b');
    expect(sut[9]).toBe(' <id@x>');
  });

  it('is all NIL for a message without headers', async () => {
    expect(await of('\r\nbody')).toEqual([null, null, null, null, null, null, null, null, null, null]);
  });
});
