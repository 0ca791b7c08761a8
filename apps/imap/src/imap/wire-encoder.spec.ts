import { describe, expect, it } from 'vitest';
import { encodeMutf7, decodeMutf7 } from './command-args';
import { encodeValues } from './wire-encoder';
import { formatSet, parseSet } from './selected-view';

const text = (values: Parameters<typeof encodeValues>[0], utf8 = false) =>
  Buffer.concat(encodeValues(values, utf8).map((s) => (Buffer.isBuffer(s) ? s : Buffer.from('<stream>')))).toString();

describe('encodeValues', () => {
  it('writes NIL, numbers, atoms, nested lists and quoted strings with escapes', () => {
    expect(text([null, 5, 12n, { atom: '\\Seen' }, ['a"b', ['c\\d']]])).toBe('NIL 5 12 \\Seen ("a\\"b" ("c\\\\d"))');
  });

  it('sends CR/LF, NUL and (without UTF8=ACCEPT) 8-bit text as literals', () => {
    expect(text(['a\r\nb'])).toBe('{4}\r\na\r\nb');
    expect(text(['Grüße'])).toBe(`{7}\r\nGrüße`);
    expect(text(['Grüße'], true)).toBe('"Grüße"');
    expect(text([Buffer.from('xy')])).toBe('{2}\r\nxy');
  });

  it('announces a stream with its length and leaves its bytes to the writer', () => {
    const segs = encodeValues([{ atom: 'BODY[]' }, { stream: async function* () {}, length: 42 }], false);
    expect(segs).toHaveLength(2);
    expect(segs[0]!.toString()).toBe('BODY[] {42}\r\n');
  });
});

describe('modified UTF-7 (RFC 3501 §5.1.3)', () => {
  it('round-trips the RFC example and &', () => {
    expect(encodeMutf7('~peter/mail/台北/日本語')).toBe('~peter/mail/&U,BTFw-/&ZeVnLIqe-');
    expect(decodeMutf7('~peter/mail/&U,BTFw-/&ZeVnLIqe-')).toBe('~peter/mail/台北/日本語');
    expect(encodeMutf7('A&B')).toBe('A&-B');
    expect(decodeMutf7('A&-B')).toBe('A&B');
  });
});

describe('sequence sets', () => {
  it('parses ranges, reversed ranges and *', () => {
    expect(parseSet('1,3:5,9:*', 12)).toEqual([
      [1, 1],
      [3, 5],
      [9, 12],
    ]);
    expect(parseSet('*:4', 2)).toEqual([[2, 4]]);
    expect(() => parseSet('0', 5)).toThrow();
    expect(() => parseSet('1:x', 5)).toThrow();
  });

  it('formats uid lists compactly, keeping their order for COPYUID', () => {
    expect(formatSet([1, 2, 3, 7, 9, 10])).toBe('1:3,7,9:10');
    expect(formatSet([5, 3])).toBe('5,3');
  });
});
