import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '@test/support/smtp/harness';
import { transaction } from '@test/support/smtp/smtp-client';
import {
  createSubmissionHarness,
  rawSession,
  sendError,
  transport,
  type RunningSubmission,
  type SubmissionHarness,
} from '@test/support/smtp/submission-harness';

const PASSWORD = 'correct horse battery staple';
const ALICE = { user: 'alice@acme.test', pass: PASSWORD };

describe('submission: sending', () => {
  let h: SubmissionHarness;
  let mta: RunningSubmission;
  let tenantId: string;
  let aliceId: string;
  let bobId: string;

  beforeAll(async () => {
    h = await createSubmissionHarness();
    const acme = await h.seed.hosted('acme.test', []);
    tenantId = acme.tenant.id;
    aliceId = (await h.user(tenantId, acme.domain.id, 'alice', PASSWORD)).id;
    bobId = (await h.user(tenantId, acme.domain.id, 'bob', PASSWORD)).id;
    await h.seed.alias(tenantId, acme.domain.id, 'sales', ['alice@acme.test', 'bob@acme.test']);
    await h.seed.alias(tenantId, acme.domain.id, 'billing', ['bob@acme.test']);
    const other = await h.seed.hosted('other.test', ['mallory']);
    await h.seed.alias(other.tenant.id, other.domain.id, 'team', ['alice@acme.test']);
    // Domains of the tenant whose ownership nobody proved: an alias of acme and a plain one.
    await h.seed.domain(tenantId, 'unproven-alias.test', { status: 'pending', aliasOfId: acme.domain.id });
    const pending = await h.seed.domain(tenantId, 'unproven.test', { status: 'pending' });
    await h.seed.alias(tenantId, pending.id, 'ceo', ['alice@acme.test']);
    await h.prisma.suppression.create({
      data: { tenantId, address: 'gone@example.net', reason: 'hard_bounce', detail: '550 5.1.1 user unknown' },
    });
    mta = await h.start({}, { maxRecipientsPerMessage: 3 });
  });
  afterAll(async () => h?.close());

  it('commits a Sent copy, an outbound message and one queued delivery per recipient, then calls onQueued', async () => {
    const before = mta.queued.length;
    const info = await transport(mta.securePort, ALICE.user, ALICE.pass).sendMail({
      from: 'Alice <alice@acme.test>',
      to: ['one@Example.NET', 'two@example.org'],
      subject: 'quarterly report',
      text: 'Numbers attached.',
    });
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-f]{16}$/);

    const sent = await h.prisma.message.findFirstOrThrow({
      where: { mailboxId: aliceId, subject: 'quarterly report' },
      include: { folder: true },
    });
    expect(sent.folder).toMatchObject({ kind: 'sent', name: 'Sent' });
    expect(sent.flags).toEqual(['\\Seen']);
    expect(sent.envelopeFrom).toBe('alice@acme.test');
    const outbound = await h.prisma.outboundMessage.findFirstOrThrow({
      where: { tenantId, subject: 'quarterly report' },
      include: { deliveries: { include: { events: true }, orderBy: { recipient: 'asc' } } },
    });
    expect(outbound).toMatchObject({
      kind: 'submission',
      mailboxId: aliceId,
      envelopeFrom: 'alice@acme.test',
      fromDomain: 'acme.test',
      blobSha256: sent.blobSha256,
      messageIdHeader: sent.messageIdHeader,
    });
    expect(outbound.deliveries.map((d) => [d.recipient, d.recipientDomain, d.status])).toEqual([
      ['one@example.net', 'example.net', 'queued'],
      ['two@example.org', 'example.org', 'queued'],
    ]);
    for (const d of outbound.deliveries) {
      expect(d.events.map((e) => e.type)).toEqual(['queued']);
      const days = (d.expiresAt.getTime() - d.createdAt.getTime()) / 86_400_000;
      expect(days).toBeCloseTo(5, 1);
    }
    await expect.poll(() => mta.queued.length).toBe(before + 1);
    expect(
      mta.queued
        .at(-1)!
        .map((q) => q.deliveryId)
        .sort(),
    ).toEqual(outbound.deliveries.map((d) => d.id).sort());
    expect(mta.queued.at(-1)!.every((q) => q.tenantId === tenantId)).toBe(true);

    const blob = await h.prisma.messageBlob.findFirstOrThrow({ where: { tenantId, sha256: sent.blobSha256 } });
    const text = Buffer.from(blob.bytes!).toString('utf8');
    expect(text).toMatch(
      /^Received: from client\.test \(\[127\.0\.0\.1\]\)\r\n\tby mx\.mailroom\.test \(Mailroom\) with ESMTPSA id /,
    );
  });

  it('sends over STARTTLS on the submission port, adding Date and Message-ID when missing', async () => {
    const client = await rawSession(mta.port, ALICE);
    const replies = await transaction(
      client,
      'alice@acme.test',
      ['x@example.net'],
      'From: alice@acme.test\r\nTo: x@example.net\r\nSubject: bare headers\r\n\r\nhi\r\n',
    );
    expect(replies.at(-1)!.code).toBe(250);
    client.close();
    const outbound = await h.prisma.outboundMessage.findFirstOrThrow({ where: { subject: 'bare headers' } });
    expect(outbound.messageIdHeader).toMatch(/^<[0-9a-f.]+@acme\.test>$/);
    const blob = await h.prisma.messageBlob.findFirstOrThrow({ where: { tenantId, sha256: outbound.blobSha256 } });
    expect(Buffer.from(blob.bytes!).toString('utf8')).toMatch(/\r\nDate: \w{3}, \d{2} \w{3} \d{4} [\d:]{8} \+0000\r\n/);
  });

  it('refuses a MAIL FROM the login does not own with 553 5.7.1', async () => {
    const sut = await sendError(
      transport(mta.securePort, ALICE.user, ALICE.pass).sendMail({
        envelope: { from: 'bob@acme.test', to: ['x@example.net'] },
        from: 'alice@acme.test',
        to: 'x@example.net',
        text: 'x',
      }),
    );
    expect(sut).toBe('553 5.7.1 <bob@acme.test>: Sender address rejected: not owned by user alice@acme.test');
  });

  it('refuses a From header the login does not own with 553 5.7.1 at the end of DATA', async () => {
    const sut = await sendError(
      transport(mta.securePort, ALICE.user, ALICE.pass).sendMail({
        envelope: { from: 'alice@acme.test', to: ['x@example.net'] },
        from: 'Billing <billing@acme.test>',
        to: 'x@example.net',
        subject: 'spoofed from',
        text: 'x',
      }),
    );
    expect(sut).toMatch(
      /^553 5\.7\.1 <billing@acme\.test>: Sender address rejected: not owned by user alice@acme\.test/,
    );
    expect(await h.prisma.outboundMessage.count({ where: { subject: 'spoofed from' } })).toBe(0);
  });

  it("refuses another tenant's alias and the null sender with 553 5.7.1", async () => {
    const client = await rawSession(mta.port, ALICE);
    expect((await client.command('MAIL FROM:<team@other.test>')).text).toMatch(
      /^553 5\.7\.1 <team@other\.test>: Sender address rejected: not owned by user/,
    );
    expect((await client.command('MAIL FROM:<>')).text).toMatch(/^553 5\.7\.1 <>: Sender address rejected/);
    client.close();
  });

  it('refuses sending as a domain whose ownership was never proven, alias or not', async () => {
    const client = await rawSession(mta.port, ALICE);
    for (const from of ['alice@unproven-alias.test', 'ceo@unproven.test']) {
      expect((await client.command(`MAIL FROM:<${from}>`)).text, from).toMatch(
        /^553 5\.7\.1 .*Sender address rejected: not owned by user/,
      );
    }
    client.close();
  });

  it('accepts an alias that reaches the mailbox, and the address with a +tag, as sender', async () => {
    for (const from of ['sales@acme.test', 'alice+news@acme.test']) {
      const info = await transport(mta.securePort, ALICE.user, ALICE.pass).sendMail({
        from,
        to: 'x@example.net',
        subject: `as ${from}`,
        text: 'x',
      });
      expect(info.response).toMatch(/^250 /);
      const outbound = await h.prisma.outboundMessage.findFirstOrThrow({ where: { subject: `as ${from}` } });
      expect(outbound.envelopeFrom).toBe(from);
    }
  });

  it('refuses a message with a bare LF with 554 5.6.0 and stores nothing', async () => {
    const client = await rawSession(mta.port, ALICE);
    const body = 'From: alice@acme.test\r\nSubject: smuggler\r\n\r\nhello\n.\r\nMAIL FROM:<alice@acme.test>\r\n';
    const replies = await transaction(client, 'alice@acme.test', ['x@example.net'], body);
    expect(replies.at(-1)!.text).toMatch(/^554 5\.6\.0 .*bare <LF> or <CR>/);
    client.close();
    expect(await h.prisma.message.count({ where: { subject: 'smuggler' } })).toBe(0);
  });

  it('stores DSN parameters (RFC 3461): RET and ENVID on the message, NOTIFY and ORCPT per delivery', async () => {
    const client = await rawSession(mta.port, ALICE);
    expect((await client.command('MAIL FROM:<alice@acme.test> RET=HDRS ENVID=abc+2Bdef')).code).toBe(250);
    expect(
      (await client.command('RCPT TO:<dsn1@example.net> NOTIFY=success,FAILURE ORCPT=rfc822;dsn1+2Btag@example.net'))
        .code,
    ).toBe(250);
    expect((await client.command('RCPT TO:<dsn2@example.net>')).code).toBe(250);
    expect((await client.command('RCPT TO:<dsn3@example.net> NOTIFY=NEVER')).code).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    const body = message({ From: 'alice@acme.test', To: 'dsn1@example.net', Subject: 'with dsn' });
    expect((await client.command(`${body}.`)).code).toBe(250);
    client.close();
    const outbound = await h.prisma.outboundMessage.findFirstOrThrow({
      where: { tenantId, subject: 'with dsn' },
      include: { deliveries: { orderBy: { recipient: 'asc' } } },
    });
    expect(outbound).toMatchObject({ dsnRet: 'HDRS', dsnEnvid: 'abc+def' });
    expect(outbound.deliveries.map((d) => [d.recipient, d.dsnNotify, d.dsnOrcpt])).toEqual([
      ['dsn1@example.net', ['SUCCESS', 'FAILURE'], 'rfc822;dsn1+tag@example.net'],
      ['dsn2@example.net', [], null],
      ['dsn3@example.net', ['NEVER'], null],
    ]);
  });

  it('stores no DSN parameters when the client gives none', async () => {
    await transport(mta.securePort, ALICE.user, ALICE.pass).sendMail({
      from: 'alice@acme.test',
      to: 'plain@example.net',
      subject: 'without dsn',
      text: 'x',
    });
    const outbound = await h.prisma.outboundMessage.findFirstOrThrow({
      where: { tenantId, subject: 'without dsn' },
      include: { deliveries: true },
    });
    expect(outbound).toMatchObject({ dsnRet: null, dsnEnvid: null });
    expect(outbound.deliveries.map((d) => [d.dsnNotify, d.dsnOrcpt])).toEqual([[[], null]]);
  });

  it.each([
    ['MAIL FROM:<alice@acme.test> RET=ALL', /^501 5\.5\.4 .*RET/],
    [`MAIL FROM:<alice@acme.test> ENVID=${'x'.repeat(101)}`, /^501 5\.5\.4 ENVID must be at most 100 printable ASCII/],
    ['RCPT TO:<x@example.net> NOTIFY=SOMETIMES', /^501 5\.5\.4 .*NOTIFY/],
    ['RCPT TO:<x@example.net> NOTIFY=NEVER,DELAY', /^501 5\.5\.4 .*NOTIFY=?.*NEVER/],
    ['RCPT TO:<x@example.net> ORCPT=x400;c=us', /^501 5\.5\.4 ORCPT must be rfc822;<address>/],
    ['RCPT TO:<x@example.net> ORCPT=rfc822;nobody', /^501 5\.5\.4 ORCPT must be rfc822; followed by an email address/],
  ])('refuses bad DSN parameters with 501 5.5.4: %s', async (command, expected) => {
    const client = await rawSession(mta.port, ALICE);
    if (command.startsWith('RCPT')) expect((await client.command('MAIL FROM:<alice@acme.test>')).code).toBe(250);
    expect((await client.command(command)).text).toMatch(expected);
    client.close();
  });

  it('refuses a suppressed recipient with a sentence', async () => {
    const client = await rawSession(mta.port, ALICE);
    await client.command('MAIL FROM:<alice@acme.test>');
    const sut = await client.command('RCPT TO:<Gone@example.net>');
    expect(sut.text).toBe(
      '550 5.7.1 <Gone@example.net>: Recipient address is on your suppression list after a hard bounce; remove it in the dashboard to send to it again',
    );
    client.close();
  });

  it('refuses recipients over the per-message cap with 452 4.5.3', async () => {
    const client = await rawSession(mta.port, ALICE);
    await client.command('MAIL FROM:<alice@acme.test>');
    for (const n of [1, 2, 3]) expect((await client.command(`RCPT TO:<r${n}@example.net>`)).code).toBe(250);
    const sut = await client.command('RCPT TO:<r4@example.net>');
    expect(sut.text).toBe('452 4.5.3 Too many recipients: at most 3 per message; send the others in another message');
    client.close();
  });

  it('delivers to a hosted recipient locally, through its filters, next to an external one', async () => {
    await h.prisma.folder.create({ data: { tenantId, mailboxId: bobId, name: 'Reports', kind: 'custom' } });
    await h.prisma.filterRule.create({
      data: {
        tenantId,
        mailboxId: bobId,
        name: 'reports',
        position: 1,
        conditions: [{ field: 'subject', operator: 'contains', value: 'weekly' }],
        actions: [{ type: 'moveTo', folder: 'Reports' }],
      },
    });
    const info = await transport(mta.securePort, ALICE.user, ALICE.pass).sendMail({
      from: 'alice@acme.test',
      to: ['bob@acme.test', 'ext@example.net'],
      subject: 'weekly numbers',
      text: 'x',
    });
    expect(info.response).toMatch(/^250 /);
    const copy = await h.prisma.message.findFirstOrThrow({
      where: { mailboxId: bobId, subject: 'weekly numbers' },
      include: { folder: true },
    });
    expect(copy.folder.name).toBe('Reports');
    expect(copy.envelopeFrom).toBe('alice@acme.test');
    const outbound = await h.prisma.outboundMessage.findFirstOrThrow({
      where: { subject: 'weekly numbers' },
      include: { deliveries: true },
    });
    expect(outbound.deliveries.map((d) => d.recipient)).toEqual(['ext@example.net']);
    expect(await h.prisma.message.count({ where: { mailboxId: aliceId, subject: 'weekly numbers' } })).toBe(1);
  });

  it('refuses an unknown hosted recipient at RCPT with 550 5.1.1', async () => {
    const client = await rawSession(mta.port, ALICE);
    await client.command('MAIL FROM:<alice@acme.test>');
    expect((await client.command('RCPT TO:<nobody@acme.test>')).text).toBe(
      '550 5.1.1 <nobody@acme.test>: Recipient address rejected: User unknown',
    );
    client.close();
  });

  it('refuses messages over the hourly limit with 451 4.7.1', async () => {
    const limited = await h.start({ SUBMISSION_MAILBOX_MESSAGES_PER_HOUR: '2' });
    const send = (n: number) =>
      transport(limited.securePort, ALICE.user, ALICE.pass).sendMail({
        from: 'alice@acme.test',
        to: 'x@example.net',
        subject: `hourly ${n}`,
        text: 'x',
      });
    await send(1);
    await send(2);
    const sut = await sendError(send(3));
    expect(sut).toBe('451 4.7.1 Sending limit reached: this mailbox may send 2 messages per hour; try again later');
    expect(await h.prisma.outboundMessage.count({ where: { subject: 'hourly 3' } })).toBe(0);
  });

  it("refuses messages over the tenant's hourly limit with 451 4.7.1, whichever mailbox sends", async () => {
    const limited = await h.start({ SUBMISSION_TENANT_MESSAGES_PER_HOUR: '1' });
    const mail = { from: '', to: 'x@example.net', subject: 'tenant hourly', text: 'x' };
    await transport(limited.securePort, ALICE.user, ALICE.pass).sendMail({ ...mail, from: ALICE.user });
    const sut = await sendError(
      transport(limited.securePort, 'bob@acme.test', PASSWORD).sendMail({ ...mail, from: 'bob@acme.test' }),
    );
    expect(sut).toBe(
      '451 4.7.1 Sending limit reached: your organisation may send 1 messages per hour; try again later',
    );
  });

  it('keeps accepting mail when Redis is down (limits and lockout fail open)', async () => {
    const noRedis = await h.start({ REDIS_URL: 'redis://127.0.0.1:1' });
    const info = await transport(noRedis.securePort, ALICE.user, ALICE.pass).sendMail({
      from: ALICE.user,
      to: 'x@example.net',
      subject: 'without redis',
      text: 'x',
    });
    expect(info.response).toMatch(/^250 /);
    expect(await h.prisma.outboundMessage.count({ where: { subject: 'without redis' } })).toBe(1);
    const wrong = await sendError(
      transport(noRedis.securePort, ALICE.user, 'nope').sendMail({ from: ALICE.user, to: 'x@example.net', text: 'x' }),
    );
    expect(wrong).toBe('535 5.7.8 Authentication credentials invalid');
  });

  it('refuses a message without a From header', async () => {
    const client = await rawSession(mta.port, ALICE);
    const replies = await transaction(
      client,
      'alice@acme.test',
      ['x@example.net'],
      message({ To: 'x@example.net', Subject: 'no from' }),
    );
    expect(replies.at(-1)!.text).toMatch(/^550 5\.6\.0 /);
    client.close();
  });
});
