import { generateKeyPairSync } from 'node:crypto';
import nodemailer from 'nodemailer';
import { dkimSign } from 'mailauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage, createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';

const dkimKeys = generateKeyPairSync('rsa', { modulusLength: 2048 });
const dkimPublic = dkimKeys.publicKey.export({ type: 'spki', format: 'der' }).toString('base64');
const dkimPrivate = dkimKeys.privateKey.export({ type: 'pkcs8', format: 'pem' }).toString();

const ZONE = `
sender.test. IN TXT "v=spf1 ip4:127.0.0.1 -all"
_dmarc.sender.test. IN TXT "v=DMARC1; p=reject"
sel._domainkey.sender.test. IN TXT "v=DKIM1; k=rsa; p=${dkimPublic}"
spoof.test. IN TXT "v=spf1 ip4:192.0.2.1 -all"
_dmarc.spoof.test. IN TXT "v=DMARC1; p=reject"
1.0.0.127.bl.test. IN A 127.0.0.2
`;

async function storedText(h: Harness, subject: string): Promise<string> {
  const row = await h.prisma.message.findFirstOrThrow({ where: { subject } });
  const blob = await h.prisma.messageBlob.findFirstOrThrow({
    where: { tenantId: row.tenantId, sha256: row.blobSha256 },
  });
  return Buffer.from(blob.bytes!).toString('utf8');
}

describe('inbound MX: message data', () => {
  let h: Harness;
  let mx: RunningInbound;

  beforeAll(async () => {
    h = await createHarness(ZONE);
    await h.seed.hosted('acme.test', ['alice', 'bob']);
    mx = await h.start();
  });
  afterAll(async () => h?.close());

  async function send(to: string[], body: string | Buffer, from = 's@sender.test') {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(client, from, to, body);
    return { client, replies, last: replies.at(-1)! };
  }

  it.each([
    ['<LF>.<CR><LF>', '\n.\r\n'],
    ['<CR><LF>.<LF>', '\r\n.\n'],
    ['<LF>.<LF>', '\n.\n'],
    ['<CR>.<CR><LF>', '\r.\r\n'],
    ['<CR><LF>.<CR>', '\r\n.\r'],
    ['a bare LF inside a line of text', 'line one\nline two\r\n'],
  ])('refuses a message with %s (SMTP smuggling) and never runs the smuggled commands', async (_name, payload) => {
    const smuggled =
      'MAIL FROM:<evil@attacker.test>\r\nRCPT TO:<bob@acme.test>\r\nDATA\r\nSubject: smuggled\r\n\r\nevil\r\n';
    const body = `Subject: carrier\r\n\r\nhello${payload}${smuggled}`;
    const { client, last } = await send(['alice@acme.test'], body);
    expect(last.text).toMatch(/^554 5\.6\.0 .*bare <LF> or <CR>/);
    expect((await client.command('NOOP')).text).toBe('250 2.0.0 OK');
    client.close();
    expect(await h.prisma.message.count({ where: { subject: { in: ['carrier', 'smuggled'] } } })).toBe(0);
  });

  it('refuses a message with more than 30 Received headers as a loop (554 5.4.6), and takes 30', async () => {
    const hops = (n: number) =>
      Array.from(
        { length: n },
        (_, i) => `Received: from hop${i}.test by hop${i + 1}.test; Sat, 28 Nov 2026 00:00:00 +0000\r\n`,
      ).join('');
    const looping = await send(['alice@acme.test'], `${hops(31)}Subject: looping\r\n\r\nx\r\n`);
    looping.client.close();
    expect(looping.last.text).toBe('554 5.4.6 Too many hops (31 Received headers): message is looping');
    const fine = await send(['alice@acme.test'], `${hops(30)}Subject: thirty hops\r\n\r\nx\r\n`);
    fine.client.close();
    expect(fine.last.code).toBe(250);
    expect(await h.prisma.message.count({ where: { subject: { in: ['looping', 'thirty hops'] } } })).toBe(1);
  });

  it('verifies SPF, DKIM and DMARC and adds Authentication-Results, Received and X-Spam-* headers', async () => {
    const raw = basicMessage('Sam <s@sender.test>', 'alice@acme.test', 'signed');
    // mailauth's types want the key at the top level; the README's signatureData is what signs.
    const key = { signingDomain: 'sender.test', selector: 'sel', privateKey: dkimPrivate };
    const signed = await dkimSign(raw, { ...key, signatureData: [key] });
    expect(signed.errors).toEqual([]);
    const { client, last } = await send(['alice@acme.test'], signed.signatures + raw);
    client.close();
    expect(last.code).toBe(250);
    const row = await h.prisma.message.findFirstOrThrow({ where: { subject: 'signed' } });
    expect(row.authResults).toMatchObject({ spf: 'pass', dkim: 'pass', dmarc: 'pass' });
    expect(row).toMatchObject({
      fromAddress: 's@sender.test',
      fromName: 'Sam',
      spamScore: -1,
      remoteIp: '127.0.0.1',
      heloName: 'client.test',
    });
    const text = await storedText(h, 'signed');
    expect(text).toMatch(/^Return-Path: <s@sender\.test>\r\n/);
    expect(text).toMatch(
      /^Authentication-Results: mx\.mailroom\.test;\r\n dkim=pass [^\r]*\r\n spf=pass [^]*dmarc=pass/m,
    );
    expect(text).toMatch(/^X-Spam-Flag: NO\r\n/m);
    expect(text).toMatch(/^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.mailroom\.test/m);
    expect(text.endsWith(signed.signatures + raw)).toBe(true);
  });

  it('renames a forged Authentication-Results that claims to be ours (RFC 8601 section 5)', async () => {
    const raw = basicMessage('s@sender.test', 'alice@acme.test', 'forged-ar');
    const forged = 'Authentication-Results: mx.mailroom.test; dkim=pass header.d=bank.test\r\n' + raw;
    const { client, last } = await send(['alice@acme.test'], forged);
    client.close();
    expect(last.code).toBe(250);
    const text = await storedText(h, 'forged-ar');
    expect(text).toContain('\r\nX-Original-Authentication-Results: mx.mailroom.test; dkim=pass header.d=bank.test\r\n');
    // Only our own result remains under the real name.
    expect(text.match(/^Authentication-Results: mx\.mailroom\.test;/gm)).toHaveLength(1);
    expect(text).not.toMatch(/^Authentication-Results: mx\.mailroom\.test; dkim=pass header\.d=bank\.test/m);
  });

  it('files a message that fails SPF and DMARC in Junk, and refuses it with 550 5.7.1 above a tenant reject threshold', async () => {
    const { client, last } = await send(
      ['alice@acme.test'],
      basicMessage('boss@spoof.test', 'alice@acme.test', 'spoofed'),
      'boss@spoof.test',
    );
    client.close();
    expect(last.code).toBe(250);
    const row = await h.prisma.message.findFirstOrThrow({ where: { subject: 'spoofed' }, include: { folder: true } });
    expect(row.folder.kind).toBe('junk');
    expect(row.spamScore).toBe(9);
    expect(await storedText(h, 'spoofed')).toMatch(
      /^X-Spam-Flag: YES\r\nX-Spam-Score: 9\.0\r\nX-Spam-Status: Yes, score=9\.0 required=5\.0\r\n\ttests=SPF_FAIL,DMARC_FAIL,DMARC_FAIL_REJECT_POLICY/m,
    );

    const strict = await h.seed.hosted('strict.test', ['carl'], { spamRejectThreshold: 8 });
    const refused = await send(
      ['carl@strict.test'],
      basicMessage('boss@spoof.test', 'carl@strict.test', 'spoofed again'),
      'boss@spoof.test',
    );
    refused.client.close();
    expect(refused.last.text).toBe('550 5.7.1 Message rejected as spam');
    expect(await h.prisma.message.count({ where: { mailboxId: strict.mailboxes[0]!.id } })).toBe(0);
  });

  it('stores a 30 MB message whole, streamed through nodemailer', async () => {
    const line = `${'0123456789'.repeat(7)}abcdefg\r\n`;
    const text = line.repeat(Math.ceil((30 * 1024 * 1024) / line.length));
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: mx.port,
      secure: false,
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({
      from: 's@sender.test',
      to: 'bob@acme.test',
      subject: 'thirty megabytes',
      text,
      textEncoding: 'base64',
    });
    expect(info.response).toMatch(/^250 /);
    const row = await h.prisma.message.findFirstOrThrow({
      where: { subject: 'thirty megabytes' },
      select: { size: true, blobSha256: true, tenantId: true },
    });
    expect(row.size).toBeGreaterThan(30 * 1024 * 1024);
    const check = await h.prisma.$queryRaw<Array<{ ok: boolean; size: number }>>`
      SELECT encode(sha256(bytes), 'hex') = sha256 AS ok, octet_length(bytes) AS size FROM message_blobs
      WHERE tenant_id = ${row.tenantId}::uuid AND sha256 = ${row.blobSha256}`;
    expect(check[0]).toEqual({ ok: true, size: row.size });
  });

  it('streams a large message to each tenant in chunks: forged header renamed, bytes intact, no large object left', async () => {
    await h.seed.hosted('second.test', ['carol']);
    const body = `${'0123456789'.repeat(99)}abcdefgh\r\n`.repeat(3 * 1024); // 3 MB: above STREAM_TO_DB_BYTES
    const raw =
      'Authentication-Results: mx.mailroom.test; dkim=pass header.d=bank.test\r\n' +
      basicMessage('s@sender.test', 'alice@acme.test', 'large-forged').replace(/\r\n\r\n[^]*$/, `\r\n\r\n${body}`);
    const { client, last } = await send(['alice@acme.test', 'carol@second.test'], raw);
    client.close();
    expect(last.code).toBe(250);
    const rows = await h.prisma.message.findMany({
      where: { subject: 'large-forged' },
      select: { size: true, blobSha256: true, tenantId: true },
    });
    expect(rows).toHaveLength(2);
    expect(new Set(rows.map((r) => r.tenantId)).size).toBe(2);
    for (const row of rows) {
      const [blob] = await h.prisma.$queryRaw<Array<{ ok: boolean; size: number; text: string }>>`
        SELECT encode(sha256(bytes), 'hex') = sha256 AS ok, octet_length(bytes) AS size,
               convert_from(bytes, 'UTF8') AS text
        FROM message_blobs WHERE tenant_id = ${row.tenantId}::uuid AND sha256 = ${row.blobSha256}`;
      expect(blob!.ok).toBe(true);
      expect(blob!.size).toBe(row.size);
      expect(blob!.text.endsWith(`\r\n\r\n${body}`)).toBe(true);
      expect(blob!.text).toMatch(/^Return-Path: <s@sender\.test>\r\n/);
      expect(blob!.text).toContain(
        '\r\nX-Original-Authentication-Results: mx.mailroom.test; dkim=pass header.d=bank.test\r\n',
      );
      expect(blob!.text.match(/^Authentication-Results: mx\.mailroom\.test;/gm)).toHaveLength(1);
    }
    // The chunks went through large objects of the commit's transaction: none is left behind.
    const [lo] = await h.prisma.$queryRaw<Array<{ n: number }>>`SELECT count(*)::int AS n FROM pg_largeobject_metadata`;
    expect(lo!.n).toBe(0);
  });

  it('runs filter rules, vacation and forwarding per mailbox', async () => {
    const t = await h.seed.hosted('rules.test', ['dora', 'fwd']);
    const [dora, fwd] = t.mailboxes as [(typeof t.mailboxes)[0], (typeof t.mailboxes)[0]];
    await h.prisma.folder.create({ data: { tenantId: t.tenant.id, mailboxId: dora.id, name: 'Newsletters' } });
    await h.prisma.filterRule.create({
      data: {
        tenantId: t.tenant.id,
        mailboxId: dora.id,
        position: 1,
        name: 'news',
        conditions: [{ field: 'subject', operator: 'contains', value: 'newsletter' }],
        actions: [{ type: 'moveTo', folder: 'Newsletters' }, { type: 'markRead' }],
      },
    });
    await h.prisma.vacationReply.create({
      data: { tenantId: t.tenant.id, mailboxId: dora.id, enabled: true, subject: 'Away', body: 'Back Monday.' },
    });
    await h.prisma.forwardingRule.create({
      data: { tenantId: t.tenant.id, mailboxId: fwd.id, targets: ['elsewhere@remote.example'], keepCopy: false },
    });

    const first = await send(
      ['dora@rules.test', 'fwd@rules.test'],
      basicMessage('pat@sender.test', 'dora@rules.test, fwd@rules.test', 'Our newsletter'),
      'pat@sender.test',
    );
    expect(first.last.code).toBe(250);
    const second = await transaction(
      first.client,
      'pat@sender.test',
      ['dora@rules.test'],
      basicMessage('pat@sender.test', 'dora@rules.test', 'hello again'),
    );
    first.client.close();
    expect(second.at(-1)!.code).toBe(250);

    const news = await h.prisma.message.findFirstOrThrow({
      where: { subject: 'Our newsletter', mailboxId: dora.id },
      include: { folder: true },
    });
    expect(news.folder.name).toBe('Newsletters');
    expect(news.flags).toEqual(['\\Seen']);
    expect(news.filterTrace).toMatchObject({ matched: ['news'] });
    expect(await h.prisma.message.count({ where: { mailboxId: fwd.id } })).toBe(0);

    const outbound = await h.prisma.outboundMessage.findMany({
      where: { tenantId: t.tenant.id },
      include: { deliveries: true },
      orderBy: { createdAt: 'asc' },
    });
    expect(outbound.map((o) => o.kind).sort()).toEqual(['forward', 'vacation']);
    const vacation = outbound.find((o) => o.kind === 'vacation')!;
    expect(vacation).toMatchObject({ envelopeFrom: '', mailboxId: dora.id, fromDomain: 'rules.test' });
    expect(vacation.deliveries.map((d) => d.recipient)).toEqual(['pat@sender.test']);
    const reply = await h.prisma.messageBlob.findFirstOrThrow({
      where: { tenantId: t.tenant.id, sha256: vacation.blobSha256 },
    });
    expect(Buffer.from(reply.bytes!).toString()).toMatch(/^Auto-Submitted: auto-replied\r$/m);
    expect(await h.prisma.vacationLog.count({ where: { mailboxId: dora.id, sender: 'pat@sender.test' } })).toBe(1);
    const forward = outbound.find((o) => o.kind === 'forward')!;
    expect(forward.deliveries.map((d) => d.recipient)).toEqual(['elsewhere@remote.example']);
    expect(forward.envelopeFrom).toMatch(/^SRS0=.*=sender\.test=pat@mx\.mailroom\.test$/);
  });

  it('files into the Inbox when a rule names a missing folder, and makes an Inbox for a mailbox with none', async () => {
    const t = await h.seed.hosted('folders.test', ['ann', 'bare']);
    const [ann, bare] = t.mailboxes as [(typeof t.mailboxes)[0], (typeof t.mailboxes)[0]];
    await h.prisma.filterRule.create({
      data: {
        tenantId: t.tenant.id,
        mailboxId: ann.id,
        position: 1,
        name: 'to a folder that is gone',
        conditions: [{ field: 'subject', operator: 'contains', value: 'folders' }],
        actions: [{ type: 'moveTo', folder: 'Deleted Long Ago' }],
      },
    });
    await h.prisma.folder.deleteMany({ where: { tenantId: t.tenant.id, mailboxId: bare.id } });

    const sent = await send(
      ['ann@folders.test', 'bare@folders.test'],
      basicMessage('pat@sender.test', 'ann@folders.test, bare@folders.test', 'folders check'),
      'pat@sender.test',
    );
    sent.client.close();
    expect(sent.last.code).toBe(250);

    const rows = await h.prisma.message.findMany({
      where: { tenantId: t.tenant.id, subject: 'folders check' },
      include: { folder: true },
      orderBy: { envelopeTo: 'asc' },
    });
    expect(rows.map((r) => [r.envelopeTo, r.folder.name, r.folder.kind, r.uid])).toEqual([
      ['ann@folders.test', 'INBOX', 'inbox', 1],
      ['bare@folders.test', 'INBOX', 'inbox', 1],
    ]);
    const counters = await h.prisma.mailbox.findMany({
      where: { tenantId: t.tenant.id },
      select: { localPart: true, messageCount: true, usedBytes: true },
      orderBy: { localPart: 'asc' },
    });
    expect(counters.map((c) => [c.localPart, c.messageCount, c.usedBytes === BigInt(rows[0]!.size)])).toEqual([
      ['ann', 1, true],
      ['bare', 1, true],
    ]);
  });

  it('scores a DNSBL-listed client into Junk when DNSBL zones are configured', async () => {
    const listed = await h.start({ DNSBL_ZONES: 'bl.test' });
    const client = await RawSmtp.connect(listed.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      's@sender.test',
      ['bob@acme.test'],
      basicMessage('s@sender.test', 'bob@acme.test', 'from a listed host'),
    );
    client.close();
    expect(replies.at(-1)!.code).toBe(250);
    const row = await h.prisma.message.findFirstOrThrow({
      where: { subject: 'from a listed host' },
      include: { folder: true },
    });
    expect(row.folder.kind).toBe('junk');
    expect(row.authResults).toMatchObject({ dnsbl: ['bl.test'] });
    expect(await storedText(h, 'from a listed host')).toMatch(/tests=DMARC_PASS,DNSBL_LISTED/);
  });

  it('greylists a new triplet with 451 4.7.1 and accepts the retry when greylisting is on', async () => {
    const grey = await h.start({ GREYLIST_ENABLED: 'true', GREYLIST_DELAY_SECONDS: '0' });
    const client = await RawSmtp.connect(grey.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<new@sender.test>');
    expect((await client.command('RCPT TO:<bob@acme.test>')).text).toMatch(/^451 4\.7\.1 .*Greylisted/);
    expect((await client.command('RCPT TO:<nobody@acme.test>')).code).toBe(550);
    expect((await client.command('RCPT TO:<bob@acme.test>')).code).toBe(250);
    client.close();
    expect(await h.prisma.greylistEntry.count()).toBe(1);
  });
});
