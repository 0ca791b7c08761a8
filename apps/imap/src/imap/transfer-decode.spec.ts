import { describe, expect, it } from 'vitest';
import { chunked } from '@mailroom/imap/mime/testing/fixture-source';
import {
  decodeBase64,
  decodeBase64Stream,
  decodeQuotedPrintable,
  decodeQuotedPrintableStream,
} from './transfer-decode';

async function collect(chunks: AsyncIterable<Buffer>): Promise<Buffer> {
  const parts: Buffer[] = [];
  for await (const chunk of chunks) parts.push(chunk);
  return Buffer.concat(parts);
}

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

describe('streaming decoders', () => {
  const qp = Buffer.from('caf=C3=A9 =\r\nsoft  \r\nhard\nx=3D=\ny=', 'latin1');
  const b64 = Buffer.from(
    Buffer.from('streamed base64 \x00\x01 across chunks')
      .toString('base64')
      .replace(/(.{7})/g, '$1\r\n'),
  );

  it.each([1, 2, 3, 5, 64])('give the same bytes as the whole-buffer ones in chunks of %i', async (size) => {
    expect(await collect(decodeQuotedPrintableStream(chunked(qp, size)))).toEqual(decodeQuotedPrintable(qp));
    expect(await collect(decodeBase64Stream(chunked(b64, size)))).toEqual(decodeBase64(b64));
  });
});
