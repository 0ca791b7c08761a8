import { describe, expect, it } from 'vitest';
import { bodyStructure } from './body-structure';
import { parseMimeStructure } from './mime-parser';
import { MIME_STRUCTURE_VERSION, type MimeNode } from './mime-node';
import { chunked, fixtureBytes } from './testing/fixture-source';
import { plain } from './testing/imap-text';

const parse = (text: string | Buffer, size = 7) =>
  parseMimeStructure(chunked(Buffer.isBuffer(text) ? text : Buffer.from(text, 'utf8'), size));

const slice = (bytes: Buffer, start: number, end: number) => bytes.subarray(start, end).toString('utf8');

describe('parseMimeStructure', () => {
  it('gives the byte offsets of every header and body in a nested message', async () => {
    const bytes = fixtureBytes('nested.eml');
    const sut = await parse(bytes);
    const [alternative, forwarded, image] = sut.children!;
    expect(slice(bytes, sut.headerStart, sut.headerEnd)).toMatch(/^Return-Path: .*boundary="outer"\r\n\r\n$/s);
    expect(slice(bytes, alternative!.headerStart, alternative!.headerEnd)).toBe(
      'Content-Type: multipart/alternative; boundary=inner\r\n\r\n',
    );
    expect(slice(bytes, alternative!.children![0]!.bodyStart, alternative!.children![0]!.bodyEnd)).toBe(
      'Caf=C3=A9 ol=C3=A9\r\nsecond line',
    );
    const inner = forwarded!.message!;
    expect(inner.headerStart).toBe(forwarded!.bodyStart);
    expect(inner.envelope?.subject).toBe('inner message');
    expect(slice(bytes, inner.children![0]!.bodyStart, inner.children![0]!.bodyEnd)).toBe('inner text');
    expect(slice(bytes, image!.bodyStart, image!.bodyEnd)).toBe('iVBORw0KGgo=');
    expect(sut.bodyEnd).toBe(bytes.length);
  });

  it('builds the same tree whatever the chunk size', async () => {
    const bytes = fixtureBytes('nested.eml');
    const whole = await parse(bytes, bytes.length);
    for (const size of [1, 2, 3, 64, 1000]) expect(await parse(bytes, size)).toEqual(whole);
  });

  it('is plain JSON with its version on the root (the store caches it as jsonb)', async () => {
    const sut = await parse(fixtureBytes('nested.eml'));
    expect(JSON.parse(JSON.stringify(sut))).toEqual(sut);
    expect(sut.version).toBe(MIME_STRUCTURE_VERSION);
    expect(sut.children![0]!.version).toBeUndefined();
  });

  it('reads bare-LF messages with LF offsets and line counts', async () => {
    const bytes = fixtureBytes('bare-lf.eml');
    const sut = await parse(bytes);
    const text = sut.children![0]!;
    expect(slice(bytes, text.bodyStart, text.bodyEnd)).toBe('line1\nline2');
    expect(text).toMatchObject({ size: 11, lines: 1 });
    expect(slice(bytes, text.headerStart, text.headerEnd)).toBe('Content-Type: text/plain\n\n');
  });

  it('keeps raw UTF-8 header values (RFC 6532) and does not throw on Latin-1 ones', async () => {
    const utf8 = await parse(fixtureBytes('eightbit.eml'));
    expect(utf8.envelope?.subject).toBe('Grüße aus Köln');
    const latin1 = Buffer.concat([Buffer.from('Subject: '), Buffer.from([0xe9, 0x74, 0xe9]), Buffer.from('\r\n\r\nx')]);
    expect((await parse(latin1)).envelope?.subject).toBe('été');
  });

  it('joins RFC 2231 continuations and keeps the encoded form, as Dovecot does', async () => {
    const sut = await parse(fixtureBytes('rfc2231.eml'));
    expect(sut.children![1]!.params).toEqual([['name*', "utf-8''%E2%82%AC%20rates 2026.txt"]]);
    expect(sut.children![1]!.disposition).toEqual({
      value: 'attachment',
      params: [['filename*', "utf-8''%E2%82%AC%20rates.txt"]],
    });
  });

  it.each([
    ['empty input', ''],
    ['only a boundary line', '--x\r\n'],
    ['garbage', '\u0000\u0001\r\r\n\n:::\r\n--\r\n'],
    ['multipart without boundary', 'Content-Type: multipart/mixed\r\n\r\nbody'],
    ['boundary never closed', 'Content-Type: multipart/mixed; boundary=b\r\n\r\n--b\r\n\r\nx\r\n--b\r\n'],
    ['broken content type', 'Content-Type: ;;;"unterminated\r\nContent-Disposition: (comment\r\n\r\nx'],
    ['rfc822 with no header end', 'Content-Type: message/rfc822\r\n\r\nFrom: a@b\r\n'],
    ['long line without a break', `Subject: x\r\n\r\n${'a'.repeat(100_000)}`],
  ])('does not throw on %s', async (_name, text) => {
    const sut = await parse(text);
    expect(sut.bodyEnd).toBe(Buffer.byteLength(text));
    await expect(plain(bodyStructure(sut, true))).resolves.toBeDefined();
  });

  it('reads a message that is nested too deep as an opaque body instead of overflowing', async () => {
    let text = '';
    for (let i = 0; i < 500; i++) text += `Content-Type: multipart/mixed; boundary=b${i}\r\n\r\n--b${i}\r\n`;
    const sut = await parse(text + 'x', 4096);
    let depth = 0;
    for (let node: MimeNode | undefined = sut; node; node = node.children?.[0]) depth++;
    expect(depth).toBeLessThanOrEqual(65);
  });

  it('streams a 30 MB attachment with little heap growth', async () => {
    const head = Buffer.from(
      'Subject: big\r\nContent-Type: multipart/mixed; boundary=zz\r\n\r\n--zz\r\nContent-Type: text/plain\r\n\r\nhi\r\n' +
        '--zz\r\nContent-Type: application/octet-stream\r\nContent-Transfer-Encoding: base64\r\n\r\n',
    );
    const line = Buffer.from(`${'QUJD'.repeat(19)}\r\n`);
    const block = Buffer.concat(Array.from({ length: 1024 }, () => line)); // 78 KB
    const blocks = Math.ceil((30 * 1024 * 1024) / block.length);
    const before = process.memoryUsage();
    let peak = 0;
    async function* message(): AsyncIterable<Buffer> {
      yield head;
      for (let i = 0; i < blocks; i++) {
        yield Buffer.from(block); // a fresh buffer each time, as a blob read gives
        if (i % 16 === 0) {
          const now = process.memoryUsage();
          peak = Math.max(peak, now.heapUsed - before.heapUsed + now.arrayBuffers - before.arrayBuffers);
        }
      }
      yield Buffer.from('--zz--\r\n');
    }
    const sut = await parseMimeStructure(message());
    expect(sut.children![1]!.size).toBe(blocks * block.length - 2);
    expect(sut.children![1]!.lines).toBe(blocks * 1024 - 1);
    expect(peak).toBeLessThan(16 * 1024 * 1024);
  });
});
