import { describe, expect, it } from 'vitest';
import { decodeBase64, decodeQuotedPrintable } from './transfer-decode';

describe('decodeQuotedPrintable', () => {
  it.each([
    ['soft break', 'a=\r\nb', 'ab'],
    ['bare-LF soft break', 'a=\nb', 'ab'],
    ['hex, lower case too', '=C3=a9', '\xc3\xa9'],
    ['trailing whitespace dropped', 'a  \t\r\nb', 'a\r\nb'],
    ['hard breaks kept as they are', 'a\nb\r\nc', 'a\nb\r\nc'],
    ['stray equals kept', 'a=zz', 'a=zz'],
    ['equals at the very end is a soft break', 'a=', 'a'],
  ])('%s', (_name, input, expected) => {
    expect(decodeQuotedPrintable(Buffer.from(input, 'latin1')).toString('latin1')).toBe(expected);
  });
});

describe('decodeBase64', () => {
  it('skips line breaks and characters outside the alphabet', () => {
    expect(decodeBase64(Buffer.from('aGVs\r\nbG8*\r\n')).toString()).toBe('hello');
  });
});
