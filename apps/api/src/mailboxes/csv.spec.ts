import { describe, expect, it } from 'vitest';
import { parseByteSize, parseCsv } from './csv';

describe('parseCsv', () => {
  const fields = (text: string) => {
    const r = parseCsv(text);
    if (!r.ok) throw new Error(r.message);
    return r.records.map((x) => x.fields);
  };

  it.each([
    [
      'a,b\r\nc,d\r\n',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    [
      'a,b\nc,d',
      [
        ['a', 'b'],
        ['c', 'd'],
      ],
    ],
    ['\uFEFFa\n\nb\n', [['a'], ['b']]],
    ['"a,1","b ""q"""\n', [['a,1', 'b "q"']]],
    ['"multi\r\nline",x', [['multi\r\nline', 'x']]],
    ['a,,\n', [['a', '', '']]],
    ['""\n', [['']]],
  ])('reads %j', (text, expected) => {
    expect(fields(text)).toEqual(expected);
  });

  it('gives the line where each record starts', () => {
    const r = parseCsv('h\n"a\nb"\nc\n');
    expect(r.ok && r.records.map((x) => x.line)).toEqual([1, 2, 4]);
  });

  it.each([
    ['"open', 'line 1: a quoted field is never closed'],
    ['a\nb"c', 'line 2: a quote inside an unquoted field'],
    ['"a"b', 'line 1: text after a closing quote; write "" for a quote inside quotes'],
  ])('refuses %j', (text, message) => {
    expect(parseCsv(text)).toMatchObject({ ok: false, message });
  });
});

describe('parseByteSize', () => {
  it.each([
    ['1073741824', 1073741824],
    ['500M', 500 * 1024 ** 2],
    ['2G', 2 * 1024 ** 3],
    ['1.5GiB', 1.5 * 1024 ** 3],
    ['10 GB', 10 * 1024 ** 3],
    ['lots', null],
    ['-1', null],
  ])('%s is %s', (text, bytes) => {
    expect(parseByteSize(text)).toBe(bytes);
  });
});
