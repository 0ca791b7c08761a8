import { describe, expect, it } from 'vitest';
import { parseArgs } from '@mailroom/imap/mime/testing/imap-text';
import { fetchNeeds, fetchSetsSeen, parseFetchItems } from './fetch-items';
import { ImapSyntaxError } from './imap-errors';

const parse = (text: string) => parseFetchItems(parseArgs(text));

describe('parseFetchItems', () => {
  it('expands the macros', () => {
    expect(parse('FAST').map((i) => i.type === 'simple' && i.name)).toEqual(['FLAGS', 'INTERNALDATE', 'RFC822.SIZE']);
    expect(parse('all')).toHaveLength(4);
    expect(parse('FULL').at(-1)).toEqual({ type: 'simple', name: 'BODY' });
  });

  it('reads sections, partials, BINARY and MODSEQ', () => {
    expect(
      parse('(UID BODY.PEEK[1.2.HEADER.FIELDS (From "To")]<0.2048> BINARY[3]<5.10> BINARY.SIZE[3] MODSEQ)'),
    ).toEqual([
      { type: 'simple', name: 'UID' },
      {
        type: 'body-section',
        peek: true,
        section: { part: [1, 2], text: 'HEADER.FIELDS', fields: ['From', 'To'] },
        partial: { start: 0, length: 2048 },
      },
      { type: 'binary', peek: false, part: [3], partial: { start: 5, length: 10 } },
      { type: 'binary-size', part: [3] },
      { type: 'simple', name: 'MODSEQ' },
    ]);
    expect(parse('BODY[]')).toEqual([{ type: 'body-section', peek: false, section: { part: [] } }]);
    expect(parse('body[text]')).toEqual([{ type: 'body-section', peek: false, section: { part: [], text: 'TEXT' } }]);
    expect(parse('BODY[2.MIME]')).toEqual([
      { type: 'body-section', peek: false, section: { part: [2], text: 'MIME' } },
    ]);
  });

  it.each([
    ['nothing', ''],
    ['an unknown item', 'FOO'],
    ['a macro inside a list', '(ALL)'],
    ['an empty list', '()'],
    ['MIME without part', 'BODY[MIME]'],
    ['part 0', 'BODY[0]'],
    ['a trailing dot', 'BODY[1.]'],
    ['HEADER.FIELDS without list', 'BODY[HEADER.FIELDS]'],
    ['HEADER.FIELDS with empty list', 'BODY[HEADER.FIELDS ()]'],
    ['a list after TEXT', 'BODY[TEXT (a)]'],
    ['BINARY with a specifier', 'BINARY[1.TEXT]'],
    ['BINARY.SIZE with partial', 'BINARY.SIZE[1]<0.5>'],
    ['BODY.PEEK without section', 'BODY.PEEK'],
    ['zero-length partial', 'BODY[]<0.0>'],
    ['a string item', '"FLAGS"'],
  ])('rejects %s with a syntax error', (_name, text) => {
    expect(() => parse(text)).toThrow(ImapSyntaxError);
  });
});

describe('fetchSetsSeen', () => {
  it.each([
    ['BODY[]', true],
    ['BODY.PEEK[]', false],
    ['RFC822', true],
    ['RFC822.TEXT', true],
    ['RFC822.HEADER', false],
    ['BINARY[1]', true],
    ['BINARY.PEEK[1]', false],
    ['BINARY.SIZE[1]', false],
    ['(FLAGS BODYSTRUCTURE ENVELOPE)', false],
  ])('%s sets \\Seen: %s', (text, expected) => {
    expect(fetchSetsSeen(parse(text))).toBe(expected);
  });
});

describe('fetchNeeds', () => {
  it.each([
    ['(UID FLAGS INTERNALDATE RFC822.SIZE MODSEQ)', false, false],
    ['BODY.PEEK[]', false, true],
    ['RFC822', false, true],
    ['(FLAGS ENVELOPE BODYSTRUCTURE)', true, false],
    ['BODY.PEEK[HEADER.FIELDS (SUBJECT)]', true, true],
    ['BODY[1.TEXT]<0.100>', true, true],
    ['RFC822.HEADER', true, true],
    ['BINARY.SIZE[1]', true, true],
  ])('%s reads the tree: %s, the bytes: %s', (text, structure, bodies) => {
    expect(fetchNeeds(parse(text))).toEqual({ structure, bodies });
  });
});
