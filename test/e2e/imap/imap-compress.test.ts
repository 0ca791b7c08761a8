import { randomBytes } from 'node:crypto';
import zlib from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage } from '@test/support/smtp/harness';
import { createImapHarness, PASSWORD, type ImapHarness } from './imap-harness';
import { RawImap } from './raw-imap';

/** A message of about `kb` KiB of varied base64 lines (compresses, but not to nothing). */
function bigMessage(to: string, kb: number): Buffer {
  const body = randomBytes(kb * 768)
    .toString('base64')
    .replace(/.{76}/g, '$&\r\n');
  const head = `From: a@sender.test\r\nTo: ${to}\r\nSubject: big\r\nMIME-Version: 1.0\r\n\r\n`;
  return Buffer.from(`${head}${body}\r\n`);
}

async function compressedSessions(x: ImapHarness): Promise<number> {
  const metric = await x.registry.getSingleMetric('mailroom_imap_compressed_sessions')!.get();
  return metric.values[0]?.value ?? 0;
}

describe('imap: COMPRESS=DEFLATE (RFC 4978)', () => {
  let x: ImapHarness;
  let address: string;

  beforeAll(async () => {
    x = await createImapHarness({ idlePollMs: 120_000 });
    ({ address } = await x.user('zip'));
    await x.deliver(address, basicMessage('someone@sender.test', address, 'first'));
  });
  afterAll(async () => x?.close());

  it('is used by imapflow on its own, for APPEND, FETCH and IDLE', async () => {
    // First in the file: no other session has been compressed yet.
    expect(await compressedSessions(x)).toBe(0);
    const client = await x.client(address);
    expect(await compressedSessions(x)).toBe(1);
    await client.mailboxOpen('INBOX');
    const big = bigMessage(address, 200);
    const appended = await client.append('INBOX', big);
    const message = await client.fetchOne(String(appended && appended.uid), { source: true }, { uid: true });
    expect(message && message.source?.equals(big)).toBe(true);
    const exists = new Promise<number>((resolve) => client.once('exists', (e: { count: number }) => resolve(e.count)));
    const idling = client.idle();
    await x.deliver(address, basicMessage('someone@sender.test', address, 'to imapflow'));
    expect(await exists).toBe(client.mailbox && client.mailbox.exists);
    await client.noop();
    await idling.catch(() => undefined);
  });

  async function login(): Promise<RawImap> {
    const raw = await RawImap.connect(x.imap.ports.imaps, true);
    const greeting = await raw.line();
    expect(greeting).not.toContain('COMPRESS=DEFLATE');
    expect(await raw.command('p', 'COMPRESS DEFLATE')).toEqual(['p BAD COMPRESS not allowed now']);
    const ok = (await raw.command('l', `LOGIN ${address} "${PASSWORD}"`)).at(-1)!;
    expect(ok).toMatch(/^l OK \[CAPABILITY .* COMPRESS=DEFLATE( |\])/);
    return raw;
  }

  it('refuses an unknown algorithm with BAD, then compresses both directions after the OK', async () => {
    const raw = await login();
    expect(await raw.command('u', 'COMPRESS LZ4')).toEqual([
      'u BAD Unknown compression algorithm LZ4; DEFLATE is supported',
    ]);
    expect(await raw.command('n', 'COMPRESS')).toEqual(['n BAD Wrong number of arguments']);
    expect(await raw.command('c', 'COMPRESS DEFLATE')).toEqual(['c OK DEFLATE active']);
    raw.startCompression();
    const caps = await raw.command('k', 'CAPABILITY');
    expect(caps[0]).toMatch(/^\* CAPABILITY IMAP4rev1 /);
    expect(caps[0]).not.toContain('COMPRESS=DEFLATE');
    expect(await raw.command('d', 'COMPRESS DEFLATE')).toEqual(['d NO [COMPRESSIONACTIVE] DEFLATE is already active']);
    expect(await compressedSessions(x)).toBeGreaterThanOrEqual(1);
    expect((await raw.command('s', 'SELECT INBOX')).at(-1)).toBe('s OK [READ-WRITE] SELECT completed');
    const fetched = await raw.command('f', 'FETCH 1 (BODY.PEEK[HEADER.FIELDS (SUBJECT)])');
    expect(fetched).toEqual([
      '* 1 FETCH (BODY[HEADER.FIELDS (SUBJECT)] {18}',
      'Subject: first',
      '',
      ')',
      'f OK FETCH completed',
    ]);
    raw.close();
  });

  it('takes a synchronising literal and streams a large FETCH through the compressed stream', async () => {
    const raw = await login();
    await raw.command('c', 'COMPRESS DEFLATE');
    raw.startCompression();
    const big = bigMessage(address, 300);
    raw.write(`a APPEND INBOX {${big.length}}\r\n`);
    expect(await raw.line()).toBe('+ Ready for literal data');
    raw.write(Buffer.concat([big, Buffer.from('\r\n')]));
    const appended = (await raw.until('a')).at(-1)!;
    expect(appended).toMatch(/^a OK \[APPENDUID \d+ (\d+)\] APPEND completed$/);
    const uid = /APPENDUID \d+ (\d+)/.exec(appended)![1];
    await raw.command('s', 'SELECT INBOX');
    const before = raw.wireBytes;
    const lines = await raw.command('f', `UID FETCH ${uid} (BODY.PEEK[])`, 15_000);
    expect(lines.at(-1)).toBe('f OK UID FETCH completed');
    expect(lines[0]).toMatch(new RegExp(`^\\* \\d+ FETCH \\(UID ${uid} BODY\\[\\] \\{${big.length}\\}$`));
    const text = lines.slice(1, -1).join('\r\n');
    expect(text).toBe(`${big.toString()})`);
    // base64 text deflates to about 3/4 of its size: what crossed the wire was compressed.
    expect(raw.wireBytes - before).toBeLessThan(big.length * 0.85);
    raw.close();
  });

  it('reports new mail during IDLE right away (each burst is flushed)', async () => {
    const raw = await login();
    await raw.command('c', 'COMPRESS DEFLATE');
    raw.startCompression();
    const selected = await raw.command('s', 'SELECT INBOX');
    const exists = Number(/^\* (\d+) EXISTS$/m.exec(selected.join('\n'))![1]);
    raw.write('i IDLE\r\n');
    expect(await raw.line()).toBe('+ idling');
    await x.deliver(address, basicMessage('someone@sender.test', address, 'while idle'));
    expect(await raw.line(10_000)).toBe(`* ${exists + 1} EXISTS`);
    raw.write('DONE\r\n');
    expect(await raw.until('i')).toEqual(['i OK IDLE terminated']);
    expect(await raw.command('o', 'LOGOUT')).toEqual(['* BYE Mailroom IMAP logging out', 'o OK LOGOUT completed']);
    await raw.waitClosed();
  });

  it('works after STARTTLS, and inflates a command pipelined behind COMPRESS', async () => {
    const raw = await RawImap.connect(x.imap.ports.imap);
    await raw.line();
    await raw.command('t', 'STARTTLS');
    await raw.startTls();
    await raw.command('l', `LOGIN ${address} "${PASSWORD}"`);
    // The NOOP is already deflated and arrives with the COMPRESS line, before the server's OK.
    const noop = zlib.deflateRawSync(Buffer.from('n NOOP\r\n'), { finishFlush: zlib.constants.Z_SYNC_FLUSH });
    raw.write(Buffer.concat([Buffer.from('c COMPRESS DEFLATE\r\n'), noop]));
    expect(await raw.until('c')).toEqual(['c OK DEFLATE active']);
    raw.startCompression();
    expect(await raw.until('n')).toEqual(['n OK NOOP completed']);
    expect((await raw.command('k', 'CAPABILITY')).at(-1)).toBe('k OK CAPABILITY completed');
    raw.close();
  });

  it('closes the connection when the client sends bytes that are not DEFLATE', async () => {
    const raw = await login();
    await raw.command('c', 'COMPRESS DEFLATE');
    raw.write(Buffer.from([0xff, 0xff, 0xff, 0xff, 0x0d, 0x0a]));
    await raw.waitClosed();
  });
});
