import { describe, expect, it } from 'vitest';
import { fixtureBytes, sourceOf } from '@mailroom/imap/mime/testing/fixture-source';
import { parseArgs, plain } from '@mailroom/imap/mime/testing/imap-text';
import { parseFetchItems } from './fetch-items';
import { imapDateTime, renderFetch } from './fetch-render';
import { ImapUnknownCte } from './imap-errors';
import { encodeValues } from './wire-encoder';

const opts = { uid: false, modseq: false, utf8: false };
const render = async (items: string, bytes = fixtureBytes('nested.eml'), o = opts, reads?: Array<unknown>) =>
  plain(await renderFetch(parseFetchItems(parseArgs(items)), sourceOf(bytes, reads as never), o));

describe('renderFetch', () => {
  it('puts UID and MODSEQ first when the command implies them, once', async () => {
    expect(await render('(FLAGS UID)', undefined, { uid: true, modseq: true, utf8: false })).toEqual([
      { atom: 'UID' },
      42,
      { atom: 'MODSEQ' },
      [7],
      { atom: 'FLAGS' },
      [{ atom: '\\Seen' }, { atom: '$Forwarded' }],
    ]);
  });

  it('renders INTERNALDATE as an IMAP date-time with zone', async () => {
    expect(await render('INTERNALDATE')).toEqual([{ atom: 'INTERNALDATE' }, ' 2-Dec-2026 09:05:03 +0000']);
    expect(imapDateTime(new Date(Date.UTC(2027, 0, 31, 23, 59, 59)))).toBe('31-Jan-2027 23:59:59 +0000');
  });

  it('reads only the byte range a section needs', async () => {
    const bytes = fixtureBytes('nested.eml');
    const reads: Array<{ start: number; end: number } | undefined> = [];
    const sut = await render('BODY.PEEK[1.2]<3.5>', bytes, opts, reads);
    expect(sut).toEqual([{ atom: 'BODY[1.2]<3>' }, 'Caf\xc3\xa9']);
    expect(reads).toHaveLength(1);
    expect(reads[0]!.end - reads[0]!.start).toBe(5);
  });

  it('answers RFC822, RFC822.HEADER and RFC822.TEXT with the whole, header and body', async () => {
    const bytes = fixtureBytes('single.eml');
    const text = bytes.toString('latin1');
    const split = text.indexOf('\r\n\r\n') + 4;
    expect(await render('(RFC822.HEADER RFC822.TEXT RFC822 RFC822.SIZE)', bytes)).toEqual([
      { atom: 'RFC822.HEADER' },
      text.slice(0, split),
      { atom: 'RFC822.TEXT' },
      text.slice(split),
      { atom: 'RFC822' },
      text,
      { atom: 'RFC822.SIZE' },
      bytes.length,
    ]);
  });

  it('marks decoded BINARY data so the encoder can send a literal8', async () => {
    const [, value] = await renderFetch(
      parseFetchItems(parseArgs('BINARY.PEEK[2.2]')),
      sourceOf(fixtureBytes('nested.eml')),
      opts,
    );
    expect(value).toMatchObject({ binary: true, length: 210 });
  });

  it('refuses BINARY of an encoding it cannot decode with ImapUnknownCte', async () => {
    const bytes = Buffer.from('Content-Transfer-Encoding: x-uuencode\r\n\r\nbegin 644 a\r\n');
    await expect(render('BINARY[1]', bytes)).rejects.toBeInstanceOf(ImapUnknownCte);
  });

  it('answers a part that does not exist with an empty string and a partial past the end the same', async () => {
    expect(await render('(BODY[9.9] BODY[]<99999.10>)')).toEqual([
      { atom: 'BODY[9.9]' },
      '',
      { atom: 'BODY[]<99999>' },
      '',
    ]);
  });

  it('serves bare-LF messages byte for byte, header fields with their own line ends', async () => {
    const bytes = fixtureBytes('bare-lf.eml');
    expect(
      await render('(BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[HEADER.FIELDS (subject)] BODYSTRUCTURE)', bytes),
    ).toEqual([
      { atom: 'BODY[1]' },
      'line1\nline2',
      { atom: 'BODY[1.MIME]' },
      'Content-Type: text/plain\n\n',
      { atom: 'BODY[HEADER.FIELDS (SUBJECT)]' },
      'Subject: bare lf\n\n',
      { atom: 'BODYSTRUCTURE' },
      [
        ['text', 'plain', ['charset', 'us-ascii'], null, null, '7bit', 11, 1, null, null, null, null],
        'alternative',
        ['boundary', 'x'],
        null,
        null,
        null,
      ],
    ]);
  });

  it('decodes a large BINARY part as it streams, with the right length and partial', async () => {
    const payload = Buffer.alloc(3 * 1024 * 1024, 'x');
    payload.write('HEAD', 0);
    payload.write('TAIL', payload.length - 4);
    const b64 = payload.toString('base64').replace(/(.{76})/g, '$1\r\n');
    const bytes = Buffer.from(`Content-Transfer-Encoding: base64\r\n\r\n${b64}\r\n`);
    const [, size, , tail, , all] = (await render(
      '(BINARY.SIZE[1] BINARY.PEEK[1]<3145724.100> BINARY.PEEK[1])',
      bytes,
    )) as unknown[];
    expect(size).toBe(payload.length);
    expect(tail).toBe('TAIL');
    expect(all).toBe(payload.toString('latin1'));
  });

  it.each(['nested.eml', 'single.eml', 'digest.eml', 'edge-mime.eml'])(
    'sends %s from memory byte for byte as it streams it, reading nothing',
    async (name) => {
      const items = parseFetchItems(
        parseArgs(
          '(BODY.PEEK[] BODY.PEEK[HEADER] BODY.PEEK[TEXT] BODY.PEEK[1] BODY.PEEK[1.MIME] BODY.PEEK[2]<3.40> ' +
            'BODY.PEEK[HEADER.FIELDS (SUBJECT FROM)] BODY.PEEK[]<10.50> RFC822 RFC822.HEADER RFC822.TEXT)',
        ),
      );
      const wire = async (values: Awaited<ReturnType<typeof renderFetch>>) => {
        const out: Buffer[] = [];
        for (const seg of encodeValues(values, false)) {
          if (Buffer.isBuffer(seg)) out.push(seg);
          else for await (const chunk of seg.stream()) out.push(chunk);
        }
        return Buffer.concat(out).toString('latin1');
      };
      const bytes = fixtureBytes(name);
      const reads: Array<{ start: number; end: number } | undefined> = [];
      const streamed = await wire(await renderFetch(items, sourceOf(bytes), opts));
      const inMemory = { ...sourceOf(bytes, reads), bytes };
      expect(await wire(await renderFetch(items, inMemory, opts))).toBe(streamed);
      expect(reads).toEqual([]);
      expect(streamed).toContain(bytes.toString('latin1'));
    },
  );
});
