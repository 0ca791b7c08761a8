import { describe, expect, it } from 'vitest';
import { DotStuffer } from './dot-stuffer';

function encode(input: string | string[], bodyLines: number | null = null): string {
  const sut = new DotStuffer(bodyLines);
  let out = '';
  for (const chunk of Array.isArray(input) ? input : [input]) {
    out += sut.push(Buffer.from(chunk, 'latin1')).toString('latin1');
    if (sut.done) break;
  }
  return out + sut.end().toString('latin1');
}

describe('DotStuffer', () => {
  it.each([
    ['a plain message', 'A: b\r\n\r\nbody\r\n', 'A: b\r\n\r\nbody\r\n.\r\n'],
    ['a line starting with a dot', 'A: b\r\n\r\n.\r\n..x\r\n', 'A: b\r\n\r\n..\r\n...x\r\n.\r\n'],
    ['bare LF line ends', 'A: b\n\nx\n.y\n', 'A: b\r\n\r\nx\r\n..y\r\n.\r\n'],
    ['no final line end', 'A: b\r\n\r\nx', 'A: b\r\n\r\nx\r\n.\r\n'],
    ['a final lone CR', 'A: b\r\n\r\nx\r', 'A: b\r\n\r\nx\r\n.\r\n'],
    ['a lone CR inside a line', 'A: b\r\n\r\nx\ry\r\n', 'A: b\r\n\r\nx\ry\r\n.\r\n'],
    ['an empty message', '', '.\r\n'],
  ])('encodes %s', (_name, input, expected) => {
    expect(encode(input)).toBe(expected);
  });

  it('keeps state across chunk boundaries (CR|LF, line start|dot)', () => {
    expect(encode(['A: b\r', '\n\r', '\n', '.', 'x\r', '\n.', '\n'])).toBe('A: b\r\n\r\n..x\r\n..\r\n.\r\n');
  });

  it.each([
    [0, 'A: b\r\nC: d\r\n\r\n.\r\n'],
    [1, 'A: b\r\nC: d\r\n\r\n..one\r\n.\r\n'],
    [2, 'A: b\r\nC: d\r\n\r\n..one\r\ntwo\r\n.\r\n'],
    [10, 'A: b\r\nC: d\r\n\r\n..one\r\ntwo\r\nthree\r\n.\r\n'],
  ])('TOP with %i body lines sends the header, the blank line and that many lines', (n, expected) => {
    expect(encode(['A: b\r\nC: d\r\n\r', '\n.one\r\ntwo\r\nthr', 'ee\r\n'], n)).toBe(expected);
  });

  it('TOP says done once it has its lines, so the caller stops reading', () => {
    const sut = new DotStuffer(1);
    sut.push(Buffer.from('A: b\r\n\r\nline 1\r\nline 2\r\n'));
    expect(sut.done).toBe(true);
    expect(sut.push(Buffer.from('more\r\n')).length).toBe(0);
  });

  it('TOP of a message without a body sends the whole header', () => {
    expect(encode('A: b\r\nC: d\r\n', 5)).toBe('A: b\r\nC: d\r\n.\r\n');
  });
});
