import { describe, expect, it } from 'vitest';
import { parseArgs } from '@mailroom/imap/mime/testing/imap-text';
import { ImapBadCharset, ImapSyntaxError } from './imap-errors';
import { parseSearch } from './search-parser';
import type { SearchQuery } from './search-query';

// A session of 10 messages with uids 101..110; '*' is the last.
const ctx = {
  sequenceToUids: (set: string): Array<[number, number]> =>
    set.split(',').map((r) => {
      const [a, b = a] = r.split(':').map((n) => (n === '*' ? 10 : Number(n)));
      return [Math.min(a!, b!) + 100, Math.max(a!, b!) + 100];
    }),
  uidSetToRanges: (set: string): Array<[number, number]> =>
    set.split(',').map((r) => {
      const [a, b = a] = r.split(':').map((n) => (n === '*' ? 110 : Number(n)));
      return [Math.min(a!, b!), Math.max(a!, b!)];
    }),
};
const query = (text: string) => parseSearch(parseArgs(text), ctx).query;
const NOTHING: SearchQuery = { op: 'not', of: { op: 'all' } };

describe('parseSearch', () => {
  it.each<[string, SearchQuery]>([
    ['ALL', { op: 'all' }],
    ['ANSWERED', { op: 'flag', flag: '\\Answered', set: true }],
    ['DELETED', { op: 'flag', flag: '\\Deleted', set: true }],
    ['DRAFT', { op: 'flag', flag: '\\Draft', set: true }],
    ['FLAGGED', { op: 'flag', flag: '\\Flagged', set: true }],
    ['SEEN', { op: 'flag', flag: '\\Seen', set: true }],
    ['UNANSWERED', { op: 'flag', flag: '\\Answered', set: false }],
    ['UNDELETED', { op: 'flag', flag: '\\Deleted', set: false }],
    ['UNDRAFT', { op: 'flag', flag: '\\Draft', set: false }],
    ['UNFLAGGED', { op: 'flag', flag: '\\Flagged', set: false }],
    ['unseen', { op: 'flag', flag: '\\Seen', set: false }],
    ['KEYWORD $Junk', { op: 'flag', flag: '$Junk', set: true }],
    ['UNKEYWORD $Junk', { op: 'flag', flag: '$Junk', set: false }],
    ['RECENT', NOTHING],
    ['NEW', NOTHING],
    ['OLD', { op: 'all' }],
    ['BCC "b@x"', { op: 'header', field: 'bcc', value: 'b@x' }],
    ['CC c', { op: 'header', field: 'cc', value: 'c' }],
    ['FROM alice', { op: 'header', field: 'from', value: 'alice' }],
    ['TO "Bob Smith"', { op: 'header', field: 'to', value: 'Bob Smith' }],
    ['SUBJECT "Grüße"', { op: 'header', field: 'subject', value: 'Grüße' }],
    ['HEADER List-Id ""', { op: 'header', field: 'list-id', value: '' }],
    ['BODY hello', { op: 'body', value: 'hello' }],
    ['TEXT hello', { op: 'text', value: 'hello' }],
    ['BEFORE 1-Feb-1994', { op: 'internaldate', cmp: 'before', date: '1994-02-01' }],
    ['ON "01-feb-1994"', { op: 'internaldate', cmp: 'on', date: '1994-02-01' }],
    ['SINCE 31-Dec-2026', { op: 'internaldate', cmp: 'since', date: '2026-12-31' }],
    ['SENTBEFORE 2-Mar-2020', { op: 'sentdate', cmp: 'before', date: '2020-03-02' }],
    ['SENTON 2-Mar-2020', { op: 'sentdate', cmp: 'on', date: '2020-03-02' }],
    ['SENTSINCE 2-Mar-2020', { op: 'sentdate', cmp: 'since', date: '2020-03-02' }],
    ['LARGER 1024', { op: 'size', cmp: 'larger', bytes: 1024 }],
    ['SMALLER 10', { op: 'size', cmp: 'smaller', bytes: 10 }],
    ['NOT SEEN', { op: 'not', of: { op: 'flag', flag: '\\Seen', set: true } }],
    [
      'OR SEEN FLAGGED',
      {
        op: 'or',
        of: [
          { op: 'flag', flag: '\\Seen', set: true },
          { op: 'flag', flag: '\\Flagged', set: true },
        ],
      },
    ],
    [
      'UID 105:*,101',
      {
        op: 'uid',
        uids: [
          [105, 110],
          [101, 101],
        ],
      },
    ],
    ['2:3', { op: 'uid', uids: [[102, 103]] }],
    ['*', { op: 'uid', uids: [[110, 110]] }],
    ['MODSEQ 620162338', { op: 'modseq', min: 620162338n }],
    ['MODSEQ "/flags/\\\\draft" all 620162338', { op: 'modseq', min: 620162338n }],
    [
      'FROM a (SEEN OR TO b NOT 1)',
      {
        op: 'and',
        of: [
          { op: 'header', field: 'from', value: 'a' },
          {
            op: 'and',
            of: [
              { op: 'flag', flag: '\\Seen', set: true },
              {
                op: 'or',
                of: [
                  { op: 'header', field: 'to', value: 'b' },
                  { op: 'not', of: { op: 'uid', uids: [[101, 101]] } },
                ],
              },
            ],
          },
        ],
      },
    ],
  ])('%s', (text, expected) => {
    expect(query(text)).toEqual(expected);
  });

  it('hands `$` (RFC 5182 saved result) to the session like any set', () => {
    const seen: string[] = [];
    const recorder = {
      sequenceToUids: (set: string): Array<[number, number]> => (seen.push(`seq ${set}`), [[1, 2]]),
      uidSetToRanges: (set: string): Array<[number, number]> => (seen.push(`uid ${set}`), [[3, 4]]),
    };
    expect(parseSearch(parseArgs('$ UID $'), recorder).query).toEqual({
      op: 'and',
      of: [
        { op: 'uid', uids: [[1, 2]] },
        { op: 'uid', uids: [[3, 4]] },
      ],
    });
    expect(seen).toEqual(['seq $', 'uid $']);
  });

  it('reads CHARSET and RETURN options', () => {
    expect(parseSearch(parseArgs('RETURN (MIN count) CHARSET utf-8 ALL'), ctx)).toEqual({
      query: { op: 'all' },
      charset: 'UTF-8',
      returnOptions: ['MIN', 'COUNT'],
    });
    expect(parseSearch(parseArgs('RETURN () SEEN'), ctx).returnOptions).toEqual(['ALL']);
    expect(parseSearch(parseArgs('CHARSET US-ASCII SEEN'), ctx).charset).toBe('US-ASCII');
    expect(parseSearch(parseArgs('SEEN'), ctx)).toEqual({
      query: { op: 'flag', flag: '\\Seen', set: true },
      charset: null,
    });
  });

  it('refuses other charsets with ImapBadCharset (the session answers NO [BADCHARSET (UTF-8 US-ASCII)])', () => {
    expect(() => query('CHARSET ISO-8859-1 FROM x')).toThrow(ImapBadCharset);
  });

  it.each([
    ['nothing', ''],
    ['an unknown key', 'FOO'],
    ['a missing string', 'FROM'],
    ['OR with one key', 'OR SEEN'],
    ['a bad date', 'BEFORE 30-Foo-2020'],
    ['a day out of range', 'ON 32-Jan-2020'],
    ['a bad number', 'LARGER many'],
    ['an empty group', '()'],
    ['a bad uid set', 'UID 1:x'],
    ['an unknown RETURN option', 'RETURN (PARTIAL) ALL'],
    ['a bad MODSEQ entry type', 'MODSEQ "/flags/x" every 5'],
  ])('rejects %s with a syntax error', (_name, text) => {
    expect(() => query(text)).toThrow(ImapSyntaxError);
  });
});
