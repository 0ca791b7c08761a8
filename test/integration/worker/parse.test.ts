import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PARSE_DEFAULTS, parsePendingMessages } from '@mailroom/worker/processors/parse.processor';
import { MailStore } from '@mailroom/mailstore';
import { createTestDatabase, type TestDatabase } from '@test/support/database';

describe('post-commit message parsing (messages.parse-pending)', () => {
  let db: TestDatabase;
  let ctx: { tenantId: string; mailboxId: string; folderId: string };
  let uid = 0;

  beforeAll(async () => {
    db = await createTestDatabase();
    const tenant = await db.prisma.tenant.create({ data: { name: 'T' } });
    const domain = await db.prisma.domain.create({
      data: { tenantId: tenant.id, name: 'p.example', unicodeName: 'p.example', ownershipToken: 't' },
    });
    const mailbox = await db.prisma.mailbox.create({
      data: { tenantId: tenant.id, domainId: domain.id, localPart: 'a', passwordHash: 'x' },
    });
    const folder = await db.prisma.folder.create({
      data: { tenantId: tenant.id, mailboxId: mailbox.id, name: 'INBOX', kind: 'inbox' },
    });
    ctx = { tenantId: tenant.id, mailboxId: mailbox.id, folderId: folder.id };
  });
  afterAll(() => db.drop());

  async function store(raw: string) {
    const bytes = Buffer.from(raw);
    const sha256 = createHash('sha256').update(bytes).digest('hex');
    await db.prisma.messageBlob.upsert({
      where: { tenantId_sha256: { tenantId: ctx.tenantId, sha256 } },
      create: { tenantId: ctx.tenantId, sha256, size: bytes.length, bytes },
      update: {},
    });
    return db.prisma.message.create({
      data: {
        ...ctx,
        blobSha256: sha256,
        uid: ++uid,
        size: bytes.length,
        envelopeFrom: 'x@y.example',
        envelopeTo: 'a@p.example',
      },
    });
  }

  it('fills has_attachments and sent_at, and marks each message parsed once', async () => {
    const withAttachment = await store(
      'From: x@y.example\r\nDate: Tue, 03 Nov 2026 10:00:00 +0000\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary="b"\r\n\r\n' +
        '--b\r\nContent-Type: text/plain\r\n\r\nsee attached\r\n--b\r\nContent-Type: application/pdf\r\nContent-Disposition: attachment; filename="invoice.pdf"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQK\r\n--b--\r\n',
    );
    const plain = await store('From: x@y.example\r\nSubject: plain\r\n\r\nhello\r\n');
    const result = await parsePendingMessages(new MailStore(db.prisma));
    expect(result).toEqual({ examined: 2, parsed: 2, failed: 0 });
    const a = await db.prisma.message.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: ctx.tenantId, id: withAttachment.id } },
    });
    expect(a).toMatchObject({ parseStatus: 'parsed', hasAttachments: true });
    expect(a.sentAt?.toISOString()).toBe('2026-11-03T10:00:00.000Z');
    const p = await db.prisma.message.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: ctx.tenantId, id: plain.id } },
    });
    expect(p).toMatchObject({ parseStatus: 'parsed', hasAttachments: false });
    expect(await parsePendingMessages(new MailStore(db.prisma))).toEqual({ examined: 0, parsed: 0, failed: 0 });
  });

  it('reads sent_at from the Date field as RFC 5322 writes it, not from forms only JavaScript accepts', async () => {
    const folded = await store('From: x@y.example\r\nDate: Tue, 03 Nov 2026\r\n 05:00:00 EST\r\n\r\nhello\r\n');
    const iso = await store('From: x@y.example\r\nDate: 2026-11-03T10:00:00Z\r\n\r\nhello\r\n');
    expect(await parsePendingMessages(new MailStore(db.prisma))).toMatchObject({ parsed: 2 });
    const rows = await db.prisma.message.findMany({ where: { id: { in: [folded.id, iso.id] } } });
    expect(rows.find((r) => r.id === folded.id)?.sentAt?.toISOString()).toBe('2026-11-03T10:00:00.000Z');
    expect(rows.find((r) => r.id === iso.id)?.sentAt).toBeNull();
  });

  it('marks a message it cannot parse in time as failed, with the reason, and keeps it', async () => {
    const slow = await store('From: x@y.example\r\nSubject: slow\r\n\r\nbody\r\n');
    const result = await parsePendingMessages(new MailStore(db.prisma), { ...PARSE_DEFAULTS, timeoutMs: 0 });
    expect(result).toEqual({ examined: 1, parsed: 0, failed: 1 });
    const row = await db.prisma.message.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: ctx.tenantId, id: slow.id } },
    });
    expect(row.parseStatus).toBe('failed');
    expect(row.parseError).toBe('parsing took longer than 0 ms');
    expect(await db.prisma.messageBlob.count({ where: { tenantId: ctx.tenantId, sha256: row.blobSha256 } })).toBe(1);
  });

  it('leaves a message over the size cap unparsed but marked, without loading its bytes', async () => {
    const big = await store('From: x@y.example\r\nSubject: big\r\n\r\n' + 'x'.repeat(2000) + '\r\n');
    const result = await parsePendingMessages(new MailStore(db.prisma), { ...PARSE_DEFAULTS, maxBytes: 1000 });
    expect(result).toEqual({ examined: 1, parsed: 1, failed: 0 });
    const row = await db.prisma.message.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: ctx.tenantId, id: big.id } },
    });
    expect(row).toMatchObject({ parseStatus: 'parsed', hasAttachments: null });
  });
});
