import nodemailer from 'nodemailer';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { srsForward, srsReverse } from '@mailroom/mail';
import { srsKey } from '@mailroom/mta/core/srs-key';
import { basicMessage, createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, rcptReply, transaction } from '@test/support/smtp/smtp-client';

describe('inbound MX: recipients', () => {
  let h: Harness;
  let mx: RunningInbound;
  let acme: Awaited<ReturnType<Harness['seed']['hosted']>>;

  beforeAll(async () => {
    h = await createHarness();
    acme = await h.seed.hosted('acme.test', ['alice', 'bob', 'carol']);
    mx = await h.start();
  });
  afterAll(async () => h?.close());

  const rcpt = (address: string, mailFrom?: string) => rcptReply(mx.port, address, mailFrom);

  it('advertises PIPELINING, 8BITMIME, SMTPUTF8, SIZE, STARTTLS and ENHANCEDSTATUSCODES, and no AUTH', async () => {
    const client = await RawSmtp.connect(mx.port);
    const ehlo = await client.command('EHLO client.test');
    client.close();
    expect(ehlo.code).toBe(250);
    const features = ehlo.lines.slice(1).map((l) => l.slice(4));
    expect(features).toEqual(
      expect.arrayContaining([
        'PIPELINING',
        '8BITMIME',
        'SMTPUTF8',
        'ENHANCEDSTATUSCODES',
        'DSN',
        'STARTTLS',
        `SIZE ${mx.config.MAX_MESSAGE_BYTES}`,
      ]),
    );
    expect(features.some((f) => f.startsWith('AUTH'))).toBe(false);
  });

  it('accepts a mailbox and stores the message in its INBOX', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      'sender@sender.test',
      ['Alice@ACME.test'],
      basicMessage('sender@sender.test', 'alice@acme.test', 'first'),
    );
    client.close();
    expect(replies.map((r) => r.code)).toEqual([250, 250, 354, 250]);
    expect(replies[3]!.text).toMatch(/^250 2\.0\.0 Ok: queued as [0-9a-f]{16}$/);
    const stored = await h.prisma.message.findMany({
      where: { mailboxId: acme.mailboxes[0]!.id },
      include: { folder: true },
    });
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({
      subject: 'first',
      envelopeFrom: 'sender@sender.test',
      parseStatus: 'pending',
      uid: 1,
    });
    expect(stored[0]!.folder.kind).toBe('inbox');
  });

  it('rejects an unknown user with 550 5.1.1', async () => {
    const reply = await rcpt('nobody@acme.test');
    expect(reply.text).toBe('550 5.1.1 <nobody@acme.test>: Recipient address rejected: User unknown');
  });

  it('rejects any other domain with 554 5.7.1 relay access denied', async () => {
    const reply = await rcpt('someone@elsewhere.example');
    expect(reply.text).toBe('554 5.7.1 <someone@elsewhere.example>: Relay access denied');
  });

  it('rejects a disabled mailbox with 550 5.2.1 and a deleted one with 550 5.1.1', async () => {
    await h.seed.mailbox(acme.tenant.id, acme.domain.id, 'gone', { status: 'deleted' });
    await h.seed.mailbox(acme.tenant.id, acme.domain.id, 'paused', { status: 'disabled' });
    expect((await rcpt('paused@acme.test')).text).toBe(
      '550 5.2.1 <paused@acme.test>: Recipient address rejected: Mailbox disabled',
    );
    expect((await rcpt('gone@acme.test')).text).toMatch(/^550 5\.1\.1 /);
  });

  it('answers a full mailbox with 452 4.2.2, and 552 5.2.2 when the declared size alone is over quota', async () => {
    await h.seed.mailbox(acme.tenant.id, acme.domain.id, 'full', { quotaBytes: 10_000n, usedBytes: 10_000n });
    await h.seed.mailbox(acme.tenant.id, acme.domain.id, 'small', { quotaBytes: 10_000n });
    expect((await rcpt('full@acme.test')).text).toBe(
      '452 4.2.2 <full@acme.test>: Recipient address rejected: Mailbox full',
    );
    expect((await rcpt('small@acme.test', 'MAIL FROM:<s@sender.test> SIZE=20000')).text).toMatch(/^552 5\.2\.2 /);
    expect((await rcpt('small@acme.test', 'MAIL FROM:<s@sender.test> SIZE=2000')).code).toBe(250);
  });

  it('re-checks the quota when it commits: a message larger than the room left is 452 4.2.2 and not stored', async () => {
    const nearly = await h.seed.mailbox(acme.tenant.id, acme.domain.id, 'nearly', {
      quotaBytes: 10_000n,
      usedBytes: 9_900n,
    });
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      's@sender.test',
      ['nearly@acme.test'],
      basicMessage('s@sender.test', 'nearly@acme.test', 'too big'),
    );
    client.close();
    expect(replies.map((r) => r.code)).toEqual([250, 250, 354, 452]);
    expect(replies.at(-1)!.text).toMatch(/^452 4\.2\.2 /);
    expect(await h.prisma.message.count({ where: { mailboxId: nearly.id } })).toBe(0);
    expect((await h.prisma.mailbox.findFirstOrThrow({ where: { id: nearly.id } })).usedBytes).toBe(9_900n);
  });

  it('answers 451 4.7.1 for a suspended tenant and 550 5.1.1 for a deleted one', async () => {
    const suspended = await h.seed.hosted('suspended.test', ['x'], { status: 'suspended' });
    const deleted = await h.seed.hosted('deleted.test', ['x'], { status: 'deleted' });
    expect(suspended.tenant.status).toBe('suspended');
    expect((await rcpt('x@suspended.test')).text).toMatch(/^451 4\.7\.1 <x@suspended\.test>: .*suspended/);
    expect(deleted.tenant.status).toBe('deleted');
    expect((await rcpt('x@deleted.test')).text).toMatch(/^550 5\.1\.1 /);
  });

  it('does not accept mail for a domain that is still pending or suspended', async () => {
    const t = await h.seed.tenant();
    const pending = await h.seed.domain(t.id, 'pending.test', { status: 'pending' });
    await h.seed.mailbox(t.id, pending.id, 'x');
    const suspended = await h.seed.domain(t.id, 'off.test', { status: 'suspended' });
    await h.seed.mailbox(t.id, suspended.id, 'x');
    expect((await rcpt('x@pending.test')).text).toMatch(/^554 5\.7\.1 .*Relay access denied/);
    expect((await rcpt('x@off.test')).text).toMatch(/^554 5\.7\.1 .*Relay access denied/);
  });

  it('keeps accepting mail for a degraded domain (active, with DNS drift)', async () => {
    const t = await h.seed.tenant();
    const degraded = await h.seed.domain(t.id, 'drifted.test', { status: 'degraded' });
    await h.seed.mailbox(t.id, degraded.id, 'x');
    expect((await rcpt('x@drifted.test')).text).toMatch(/^250 /);
  });

  it('resolves domain aliases, sub-addresses and the catch-all', async () => {
    const t = await h.seed.hosted('team.test', ['dana']);
    await h.seed.domain(t.tenant.id, 'team-alias.test', { aliasOfId: t.domain.id });
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      's@sender.test',
      ['dana@team-alias.test', 'dana+news@team.test'],
      basicMessage('s@sender.test', 'dana@team.test'),
    );
    expect(replies.map((r) => r.code)).toEqual([250, 250, 250, 354, 250]);
    expect(await h.prisma.message.count({ where: { mailboxId: t.mailboxes[0]!.id } })).toBe(1);
    expect((await client.command('RSET')).code).toBe(250);
    expect((await client.command('MAIL FROM:<s@sender.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<whoever@team.test>')).code).toBe(550);
    await h.seed.alias(t.tenant.id, t.domain.id, '*', ['dana@team.test']);
    expect((await client.command('RCPT TO:<whoever@team.test>')).code).toBe(250);
    client.close();
  });

  it('stores a message to three local mailboxes as one blob with three message rows', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const to = ['alice@acme.test', 'bob@acme.test', 'carol@acme.test'];
    const replies = await transaction(
      client,
      's@sender.test',
      to,
      basicMessage('s@sender.test', to.join(', '), 'three'),
    );
    client.close();
    expect(replies.at(-1)!.code).toBe(250);
    const rows = await h.prisma.message.findMany({ where: { subject: 'three' } });
    expect(rows).toHaveLength(3);
    expect(new Set(rows.map((r) => r.blobSha256)).size).toBe(1);
    expect(await h.prisma.messageBlob.count({ where: { sha256: rows[0]!.blobSha256 } })).toBe(1);
    const blob = await h.prisma.messageBlob.findFirstOrThrow({ where: { sha256: rows[0]!.blobSha256 } });
    expect(blob.size).toBe(rows[0]!.size);
    const bob = await h.prisma.mailbox.findFirstOrThrow({ where: { id: acme.mailboxes[1]!.id } });
    expect(bob.usedBytes).toBe(BigInt(blob.size));
    expect(bob.messageCount).toBe(1);
  });

  it('delivers one copy per mailbox when several recipients reach it, and stops alias loops', async () => {
    const t = await h.seed.hosted('loop.test', ['erin']);
    await h.seed.alias(t.tenant.id, t.domain.id, 'a', ['b@loop.test', 'erin@loop.test']);
    await h.seed.alias(t.tenant.id, t.domain.id, 'b', ['a@loop.test', 'erin@loop.test']);
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      's@sender.test',
      ['a@loop.test', 'b@loop.test', 'erin@loop.test'],
      basicMessage('s@sender.test', 'a@loop.test', 'loop'),
    );
    client.close();
    expect(replies.at(-1)!.code).toBe(250);
    expect(await h.prisma.message.count({ where: { mailboxId: t.mailboxes[0]!.id } })).toBe(1);
  });

  it('writes external alias targets to the outbox as an SRS forward with a queued delivery', async () => {
    const t = await h.seed.hosted('fwd.test', ['frank']);
    await h.seed.alias(t.tenant.id, t.domain.id, 'team', ['frank@fwd.test', 'Frank.Home@Remote.example']);
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      'orig@sender.test',
      ['team@fwd.test'],
      basicMessage('orig@sender.test', 'team@fwd.test', 'fwd'),
    );
    client.close();
    expect(replies.at(-1)!.code).toBe(250);
    const outbound = await h.prisma.outboundMessage.findFirstOrThrow({
      where: { tenantId: t.tenant.id },
      include: { deliveries: true },
    });
    expect(outbound).toMatchObject({ kind: 'forward', fromDomain: 'fwd.test', subject: 'fwd' });
    expect(outbound.envelopeFrom).toMatch(/^SRS0=.*@mx\.mailroom\.test$/);
    expect(srsReverse(outbound.envelopeFrom, srsKey(mx.config.MASTER_KEY))).toBe('orig@sender.test');
    expect(outbound.deliveries).toHaveLength(1);
    expect(outbound.deliveries[0]).toMatchObject({
      recipient: 'Frank.Home@remote.example',
      recipientDomain: 'remote.example',
      status: 'queued',
    });
    expect(outbound.deliveries[0]!.expiresAt.getTime()).toBeGreaterThan(Date.now() + 4 * 86_400_000);
    expect(await h.prisma.message.count({ where: { mailboxId: t.mailboxes[0]!.id } })).toBe(1);
  });

  it('relays DSN parameters with a forward: RET and ENVID on the message, NOTIFY and ORCPT per delivery', async () => {
    const t = await h.seed.hosted('dsnfwd.test', []);
    await h.seed.alias(t.tenant.id, t.domain.id, 'team', ['kim@remote.example']);
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<orig@sender.test> RET=FULL ENVID=QQ+2B314')).code).toBe(250);
    expect(
      (await client.command('RCPT TO:<team@dsnfwd.test> NOTIFY=FAILURE,DELAY ORCPT=rfc822;team@dsnfwd.test')).code,
    ).toBe(250);
    expect((await client.command('DATA')).code).toBe(354);
    expect((await client.command(`${basicMessage('orig@sender.test', 'team@dsnfwd.test', 'dsn fwd')}.`)).code).toBe(
      250,
    );
    client.close();
    const outbound = await h.prisma.outboundMessage.findFirstOrThrow({
      where: { tenantId: t.tenant.id },
      include: { deliveries: true },
    });
    expect(outbound).toMatchObject({ kind: 'forward', dsnRet: 'FULL', dsnEnvid: 'QQ+314' });
    expect(outbound.deliveries.map((d) => [d.recipient, d.dsnNotify, d.dsnOrcpt])).toEqual([
      ['kim@remote.example', ['FAILURE', 'DELAY'], 'rfc822;team@dsnfwd.test'],
    ]);
  });

  it('refuses malformed DSN parameters on port 25 with 501 5.5.4', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    expect((await client.command('MAIL FROM:<s@sender.test> ENVID=a+20b')).text).toMatch(
      /^501 5\.5\.4 ENVID must be at most 100 printable ASCII characters/,
    );
    expect((await client.command('MAIL FROM:<s@sender.test>')).code).toBe(250);
    expect((await client.command('RCPT TO:<alice@acme.test> ORCPT=utf-8;alice@acme.test')).text).toMatch(
      /^501 5\.5\.4 ORCPT must be rfc822;<address>/,
    );
    client.close();
  });

  it('accepts RCPT TO:<postmaster> without a domain and delivers it to POSTMASTER_ADDRESS (RFC 5321 §4.5.1)', async () => {
    // The default: postmaster@ the MX host name's parent domain, here mailroom.test, hosted with
    // its postmaster@ system alias pointing at the operator's mailbox.
    const platform = await h.seed.hosted('mailroom.test', ['ops']);
    await h.seed.alias(platform.tenant.id, platform.domain.id, 'postmaster', ['ops@mailroom.test']);
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      'someone@sender.test',
      ['Postmaster'],
      basicMessage('someone@sender.test', 'postmaster', 'to the postmaster'),
    );
    client.close();
    expect(replies.map((r) => r.code)).toEqual([250, 250, 354, 250]);
    const stored = await h.prisma.message.findFirstOrThrow({ where: { subject: 'to the postmaster' } });
    expect(stored.mailboxId).toBe(platform.mailboxes[0]!.id);
    expect(stored.envelopeTo).toBe('postmaster@mailroom.test');
  });

  it('delivers RCPT TO:<postmaster> to a configured POSTMASTER_ADDRESS', async () => {
    const other = await h.start({ POSTMASTER_ADDRESS: 'bob@acme.test' });
    const client = await RawSmtp.connect(other.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      'someone@sender.test',
      ['postmaster'],
      basicMessage('someone@sender.test', 'postmaster', 'configured postmaster'),
    );
    client.close();
    expect(replies.at(-1)!.code).toBe(250);
    const stored = await h.prisma.message.findFirstOrThrow({ where: { subject: 'configured postmaster' } });
    expect(stored.mailboxId).toBe(acme.mailboxes[1]!.id);
  });

  describe('bounces to SRS0 addresses', () => {
    const key = () => srsKey(mx.config.MASTER_KEY);
    let forward: { tenantId: string; id: string; envelopeFrom: string };

    beforeAll(async () => {
      const t = await h.seed.hosted('srs.test', []);
      await h.seed.alias(t.tenant.id, t.domain.id, 'list', ['member@remote.example']);
      const client = await RawSmtp.connect(mx.port);
      await client.command('EHLO client.test');
      const replies = await transaction(
        client,
        'Author@Origin.example',
        ['list@srs.test'],
        basicMessage('Author@Origin.example', 'list@srs.test', 'srs original'),
      );
      client.close();
      expect(replies.at(-1)!.code).toBe(250);
      forward = await h.prisma.outboundMessage.findFirstOrThrow({ where: { tenantId: t.tenant.id, kind: 'forward' } });
    });

    async function bounce(to: string, subject: string) {
      const client = await RawSmtp.connect(mx.port);
      await client.command('EHLO remote.example');
      const replies = await transaction(client, '', [to], basicMessage('MAILER-DAEMON@remote.example', to, subject));
      client.close();
      return replies;
    }

    it('relays a bounce with a valid SRS0 address to the original sender, with the null sender', async () => {
      const replies = await bounce(forward.envelopeFrom, 'srs bounce');
      expect(replies.map((r) => r.code)).toEqual([250, 250, 354, 250]);
      const relayed = await h.prisma.outboundMessage.findFirstOrThrow({
        where: { tenantId: forward.tenantId, subject: 'srs bounce' },
        include: { deliveries: true },
      });
      expect(relayed).toMatchObject({ kind: 'forward', envelopeFrom: '', fromDomain: 'srs.test', mailboxId: null });
      expect(relayed.deliveries.map((d) => [d.recipient, d.status])).toEqual([['Author@Origin.example', 'queued']]);
      expect(await h.prisma.message.count({ where: { subject: 'srs bounce' } })).toBe(0);
    });

    it.each([
      ['a forged hash', (a: string) => a.replace(/^SRS0=(.)/, (_m, c: string) => `SRS0=${c === 'A' ? 'B' : 'A'}`)],
      [
        'an expired day stamp (30 days old)',
        () => srsForward('Author@Origin.example', 'mx.mailroom.test', key(), new Date(Date.now() - 30 * 86_400_000)),
      ],
    ])('refuses an SRS0 address with %s with 550 5.1.1, even when a forward used it', async (_name, make) => {
      const address = make(forward.envelopeFrom);
      expect(address).not.toBe(forward.envelopeFrom);
      // The row exists: only the hash or the stamp refuses it.
      await h.prisma.outboundMessage.update({
        where: { tenantId_id: { tenantId: forward.tenantId, id: forward.id } },
        data: { envelopeFrom: address },
      });
      try {
        expect((await rcpt(address, 'MAIL FROM:<>')).text).toBe(
          `550 5.1.1 <${address}>: Recipient address rejected: User unknown`,
        );
      } finally {
        await h.prisma.outboundMessage.update({
          where: { tenantId_id: { tenantId: forward.tenantId, id: forward.id } },
          data: { envelopeFrom: forward.envelopeFrom },
        });
      }
    });

    it('refuses a valid SRS0 address no forward of ours was sent from (never an open relay)', async () => {
      const address = srsForward('victim@elsewhere.example', 'mx.mailroom.test', key());
      expect((await rcpt(address, 'MAIL FROM:<>')).text).toBe(
        `550 5.1.1 <${address}>: Recipient address rejected: User unknown`,
      );
    });
  });

  it('accepts MAIL FROM:<> (a DSN) and stores it without replying to anyone', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      '',
      ['carol@acme.test'],
      basicMessage('MAILER-DAEMON@sender.test', 'carol@acme.test', 'dsn-in'),
    );
    client.close();
    expect(replies.map((r) => r.code)).toEqual([250, 250, 354, 250]);
    const row = await h.prisma.message.findFirstOrThrow({ where: { subject: 'dsn-in' } });
    expect(row.envelopeFrom).toBe('');
    expect(await h.prisma.outboundMessage.count({ where: { tenantId: acme.tenant.id } })).toBe(0);
  });

  it('takes 100 recipients across aliases and a catch-all through nodemailer, and refuses the 101st with 452 4.5.3', async () => {
    const t = await h.seed.hosted('many.test', ['m1', 'm2', 'm3']);
    for (let i = 0; i < 40; i++) {
      await h.seed.alias(t.tenant.id, t.domain.id, `list${i}`, ['m1@many.test', 'm2@many.test']);
    }
    await h.seed.alias(t.tenant.id, t.domain.id, '*', ['m3@many.test']);
    const to = [
      ...Array.from({ length: 40 }, (_, i) => `list${i}@many.test`),
      ...Array.from({ length: 60 }, (_, i) => `x${i}@many.test`),
    ];
    const transport = nodemailer.createTransport({
      host: '127.0.0.1',
      port: mx.port,
      secure: false,
      tls: { rejectUnauthorized: false },
    });
    const info = await transport.sendMail({
      from: 's@sender.test',
      to,
      subject: 'hundred',
      text: 'hi',
      envelope: { from: 's@sender.test', to },
    });
    expect(info.accepted).toHaveLength(100);
    expect(info.rejected).toHaveLength(0);
    expect(info.response).toMatch(/^250 2\.0\.0 Ok: queued as /);
    const rows = await h.prisma.message.findMany({ where: { subject: 'hundred' } });
    expect(rows.map((r) => r.mailboxId).sort()).toEqual(t.mailboxes.map((m) => m.id).sort());

    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<s@sender.test>');
    for (const rcptTo of to) expect((await client.command(`RCPT TO:<${rcptTo}>`)).code).toBe(250);
    expect((await client.command('RCPT TO:<one-more@many.test>')).text).toMatch(/^452 4\.5\.3 /);
    client.close();
  });
});
