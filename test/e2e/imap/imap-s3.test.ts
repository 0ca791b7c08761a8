import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore, useBlobStore } from '@mailroom/mailstore';
import { RawPop3, plainToken } from '@test/support/pop3/pop3-client';
import { startLocalS3, type LocalS3 } from '@test/support/s3';
import { message } from '@test/support/smtp/harness';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';
import { createImapHarness, PASSWORD, type ImapHarness } from './imap-harness';

// Bodies in S3 end to end (docs/scaling.md section 5): the MTA and the IMAP/POP3 app with
// BLOB_STORE=s3 and BLOB_S3_MIN_BYTES=10000, an S3-compatible server (s3rver) on loopback. Mail
// goes in on port 25 and comes out byte for byte over IMAP and POP3.

const MIN_BYTES = 10_000;
let s3: LocalS3;
let sut: ImapHarness;

beforeAll(async () => {
  s3 = await startLocalS3();
  sut = await createImapHarness({}, s3.env({ BLOB_S3_MIN_BYTES: String(MIN_BYTES) }));
});
afterAll(async () => {
  await sut?.close();
  useBlobStore(new BlobStore());
  await s3?.close();
});

function mail(subject: string, size: number): string {
  const lines = Array.from({ length: Math.ceil(size / 78) }, () => randomBytes(57).toString('base64'));
  return message(
    { From: 'someone@sender.test', To: 'x@acme.test', Subject: subject, 'Message-ID': `<${subject}@sender.test>` },
    lines.join('\n'),
  );
}

/** The stored blob row of the newest message of a mailbox. */
async function storedBlob(mailboxId: string) {
  const m = await sut.h.prisma.message.findFirstOrThrow({ where: { mailboxId }, orderBy: { uid: 'desc' } });
  return sut.h.prisma.messageBlob.findUniqueOrThrow({
    where: { tenantId_sha256: { tenantId: m.tenantId, sha256: m.blobSha256 } },
  });
}

async function pop3Retr(address: string, n: number): Promise<Buffer> {
  const { client } = await RawPop3.connect(sut.imap.ports.pop3s, { tls: true });
  expect(await client.command(`AUTH PLAIN ${plainToken('', address, PASSWORD)}`)).toBe('+OK Logged in.');
  client.write(`RETR ${n}\r\n`);
  const retr = await client.readMulti();
  await client.command('QUIT');
  client.close();
  // Undo dot-stuffing (RFC 1939 section 3).
  return Buffer.from(retr.body.toString('latin1').replace(/^\./gm, ''), 'latin1');
}

describe('bodies in S3, end to end', () => {
  it('a message in over port 25 is stored in S3 and comes back byte for byte over IMAP FETCH and POP3 RETR', async () => {
    const u = await sut.user('big');
    const sent = mail('big', 600_000);
    await sut.deliver(u.address, sent);
    const blob = await storedBlob(u.id);
    expect(blob).toMatchObject({ storage: 's3', bytes: null });
    const object = await s3.store().objects!.get(blob.storageKey!);
    // What the MTA stored: its trace headers, then the message as sent.
    expect(object.subarray(object.length - Buffer.byteLength(sent)).toString()).toBe(sent);

    const client = await sut.client(u.address);
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne('*', { source: true, size: true });
    expect(msg && msg.size).toBe(object.length);
    expect(msg && msg.source!.equals(object)).toBe(true);
    // Partial FETCH: BODY.PEEK[]<start.length>, a ranged GET.
    const part = await client.fetchOne('*', { source: { start: 250_000, maxLength: 70_000 } });
    expect(part && part.source!.equals(object.subarray(250_000, 320_000))).toBe(true);
    // A section: the text after the header.
    const text = await client.fetchOne('*', { bodyParts: ['TEXT'] });
    const headerEnd = object.indexOf('\r\n\r\n') + 4;
    expect(text && text.bodyParts!.get('text')!.equals(object.subarray(headerEnd))).toBe(true);

    expect((await pop3Retr(u.address, 1)).equals(object)).toBe(true);
  });

  it('keeps a body under BLOB_S3_MIN_BYTES in PostgreSQL and reads it the same way', async () => {
    const u = await sut.user('small');
    const sent = mail('small', 2_000);
    await sut.deliver(u.address, sent);
    const blob = await storedBlob(u.id);
    expect(blob.storage).toBe('db');
    expect(blob.size).toBeLessThan(MIN_BYTES);
    const client = await sut.client(u.address);
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne('*', { source: true });
    expect(msg && msg.source!.equals(Buffer.from(blob.bytes!))).toBe(true);
    expect((await pop3Retr(u.address, 1)).equals(Buffer.from(blob.bytes!))).toBe(true);
  });

  it('a FETCH of many S3 and PostgreSQL bodies of mixed sizes returns each one whole, in uid order', async () => {
    const u = await sut.user('mixed');
    const client = await sut.client(u.address);
    // Sizes around BLOB_S3_MIN_BYTES (10,000: below stays in PostgreSQL) and FETCH's 256 KiB
    // inline limit (above is streamed, not read whole), in an order where a 150 KB object comes
    // before 40 and 12 KB ones: their GETs, started with it, finish first and must still be sent
    // after it.
    const sizes = [300_000, 3_000, 40_000, 12_000, 9_000, 700_000, 20_000, 11_000, 2_000, 150_000];
    // 40 messages: one FETCH batch holds at most 100 messages and 1 MB of bodies under 256 KiB,
    // so this is several batches, each with several S3 reads under way at once.
    const sent: Buffer[] = [];
    for (let i = 0; i < 40; i++) {
      // Two messages with the same body (one blob, one object) in the same batch.
      const raw = i === 23 ? sent[21]! : Buffer.from(mail(`mixed-${i}`, sizes[i % sizes.length]!));
      await client.append('INBOX', raw, ['\\Seen']);
      sent.push(raw);
    }
    const rows = await sut.h.prisma.message.findMany({ where: { mailboxId: u.id }, select: { blobSha256: true } });
    const blobs = await sut.h.prisma.messageBlob.findMany({
      where: { tenantId: sut.tenantId, sha256: { in: rows.map((r) => r.blobSha256) } },
    });
    expect(new Set(blobs.map((b) => b.storage))).toEqual(new Set(['db', 's3']));

    await client.mailboxOpen('INBOX');
    const whole: Array<{ seq: number; uid: number; source: Buffer }> = [];
    for await (const msg of client.fetch('1:*', { uid: true, source: true })) {
      whole.push({ seq: msg.seq, uid: msg.uid, source: msg.source! });
    }
    expect(whole.map((m) => m.seq)).toEqual(sent.map((_, i) => i + 1));
    const wrong = whole.filter((m, i) => !m.source.equals(sent[i]!)).map((m) => m.seq);
    expect(wrong).toEqual([]);

    // A partial FETCH of every message: BODY.PEEK[]<5000.9000>, past the end of the small ones.
    const parts: Buffer[] = [];
    for await (const msg of client.fetch('1:*', { source: { start: 5_000, maxLength: 9_000 } })) {
      parts.push(msg.source!);
    }
    expect(parts.length).toBe(sent.length);
    expect(parts.filter((p, i) => !p.equals(sent[i]!.subarray(5_000, 14_000))).length).toBe(0);

    // A section that needs the MIME tree: the body after the header.
    const texts: Buffer[] = [];
    for await (const msg of client.fetch('1:*', { bodyParts: ['TEXT'] })) texts.push(msg.bodyParts!.get('text')!);
    const body = (raw: Buffer) => raw.subarray(raw.indexOf('\r\n\r\n') + 4);
    expect(texts.filter((t, i) => !t.equals(body(sent[i]!))).length).toBe(0);
    expect((await pop3Retr(u.address, 6)).equals(sent[5]!)).toBe(true);
  });

  it('with S3 down the SMTP client gets a 4xx and no row refers to a missing object; accepted once S3 is back', async () => {
    const u = await sut.user('outage');
    const sent = mail('outage', 50_000);
    await s3.stop();
    let replies;
    try {
      const smtp = await RawSmtp.connect(sut.mx.port);
      await smtp.command('EHLO sender.test');
      replies = await transaction(smtp, 'someone@sender.test', [u.address], sent);
      smtp.close();
    } finally {
      await s3.start();
    }
    const last = replies.at(-1)!;
    expect(last.code).toBeGreaterThanOrEqual(400);
    expect(last.code).toBeLessThan(500);
    expect(await sut.h.prisma.message.count({ where: { mailboxId: u.id } })).toBe(0);
    // Every S3 row of the tenant has its object.
    const keys = new Set(await s3.keys());
    const rows = await sut.h.prisma.messageBlob.findMany({ where: { tenantId: sut.tenantId, storage: 's3' } });
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.filter((r) => !keys.has(r.storageKey!))).toEqual([]);

    await sut.deliver(u.address, sent);
    const client = await sut.client(u.address);
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne('*', { source: true });
    expect(msg && msg.source!.toString().endsWith(sent)).toBe(true);
  });
});
