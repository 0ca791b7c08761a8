import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import type { Config } from '@mailroom/config';
import { deliveryTestConfig } from '@test/support/delivery-config';
import { BounceRepository } from '@mailroom/delivery';
import { createNodeResolver } from '@mailroom/dns';
import { srsForward, srsSecret } from '@mailroom/mail';
import { DeliveryAgent } from '@mailroom/worker/delivery/delivery-agent';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { freePort } from '@test/support/processes';

interface Received {
  from: string;
  to: string[];
  /** MAIL FROM RET/ENVID and each RCPT's NOTIFY/ORCPT, as the sink parsed them. */
  envelopeDsn: unknown;
  rcptDsn: unknown[];
  raw: string;
}

/**
 * A remote MX on loopback: `ok@` 250, `temp@` 451 every time, `hard@` 550 5.1.1. With `dsn`, it
 * advertises DSN (RFC 3461) and keeps the parameters it was given.
 */
async function startSink(dsn: boolean) {
  const received: Received[] = [];
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    hideDSN: !dsn,
    onRcptTo(address, _session, callback) {
      const local = address.address.split('@')[0]!;
      if (local.startsWith('hard')) {
        return callback(Object.assign(new Error('5.1.1 User unknown'), { responseCode: 550 }));
      }
      if (local.startsWith('temp')) {
        return callback(Object.assign(new Error('4.2.1 Mailbox busy, try later'), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        const envelope = session.envelope as typeof session.envelope & { dsn?: unknown };
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          envelopeDsn: envelope.dsn,
          rcptDsn: session.envelope.rcptTo.map((r) => (r as { dsn?: unknown }).dsn),
          raw: Buffer.concat(chunks).toString('utf8'),
        });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return { port, received, close: () => new Promise<void>((resolve) => server.close(() => resolve())) };
}

describe('DSN parameters (RFC 3461) and DSNs for forwards', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let plain: Awaited<ReturnType<typeof startSink>>;
  let capable: Awaited<ReturnType<typeof startSink>>;
  let config: Config;
  let sut: DeliveryAgent;
  /** The same, delivering to the sink that advertises DSN. */
  let sutDsn: DeliveryAgent;
  let tenantId: string;
  let mailboxId: string;
  const masterKey = randomBytes(32);

  const configFor = (port: number, extra: Record<string, string> = {}) =>
    deliveryTestConfig(
      { databaseUrl: db.url, dnsPort: dns.port, masterKey, port },
      { DELIVERY_CONNECTION_CACHE_MS: '0', ...extra },
    );

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(
      [
        'dest.example. 60 IN MX 10 sink.dest.example.',
        'sink.dest.example. 60 IN A 127.0.0.1',
        'origin.example. 60 IN MX 10 sink.dest.example.',
      ].join('\n'),
    );
    plain = await startSink(false);
    capable = await startSink(true);
    config = configFor(plain.port);
    sut = new DeliveryAgent(db.prisma, config, createNodeResolver(config.DNS_SERVERS, 1000, 1));
    sutDsn = new DeliveryAgent(db.prisma, configFor(capable.port), createNodeResolver(config.DNS_SERVERS, 1000, 1));
    const tenant = await db.prisma.tenant.create({ data: { name: 'Sender Co' } });
    tenantId = tenant.id;
    const domain = await db.prisma.domain.create({
      data: { tenantId, name: 'sender.example', unicodeName: 'sender.example', ownershipToken: 't', status: 'active' },
    });
    const mailbox = await db.prisma.mailbox.create({
      data: { tenantId, domainId: domain.id, localPart: 'alice', passwordHash: 'x' },
    });
    mailboxId = mailbox.id;
    await db.prisma.folder.create({ data: { tenantId, mailboxId, name: 'INBOX', kind: 'inbox' } });
  });

  afterAll(async () => {
    sut?.close();
    sutDsn?.close();
    await plain?.close();
    await capable?.close();
    await dns?.close();
    await db?.drop();
  });

  beforeEach(async () => {
    plain.received.length = 0;
    capable.received.length = 0;
    await db.prisma.message.deleteMany({ where: { tenantId, mailboxId } });
  });

  interface QueueOptions {
    subject?: string;
    kind?: 'submission' | 'forward';
    envelopeFrom?: string;
    ret?: 'FULL' | 'HDRS' | null;
    envid?: string | null;
    notify?: string[];
    orcpt?: string | null;
    createdAt?: Date;
  }

  /** An outbound message with one queued delivery per recipient; DSN columns as the MTA stores them. */
  async function queue(recipients: string[], o: QueueOptions = {}) {
    const subject = o.subject ?? 'Hello';
    const raw = Buffer.from(
      `From: Alice <alice@sender.example>\r\nTo: ${recipients.join(', ')}\r\nSubject: ${subject}\r\n` +
        `Message-ID: <${randomBytes(6).toString('hex')}@sender.example>\r\n\r\nThe body line.\r\n`,
    );
    const sha256 = createHash('sha256').update(raw).digest('hex');
    await db.prisma.messageBlob.create({ data: { tenantId, sha256, size: raw.length, bytes: raw } });
    const kind = o.kind ?? 'submission';
    const message = await db.prisma.outboundMessage.create({
      data: {
        tenantId,
        kind,
        mailboxId: kind === 'submission' ? mailboxId : null,
        envelopeFrom: o.envelopeFrom ?? 'alice@sender.example',
        fromDomain: 'sender.example',
        subject,
        blobSha256: sha256,
        size: raw.length,
        dsnRet: o.ret ?? null,
        dsnEnvid: o.envid ?? null,
        ...(o.createdAt ? { createdAt: o.createdAt } : {}),
      },
    });
    const deliveries = [];
    for (const recipient of recipients) {
      deliveries.push(
        await db.prisma.delivery.create({
          data: {
            tenantId,
            outboundMessageId: message.id,
            recipient,
            recipientDomain: recipient.split('@')[1]!,
            expiresAt: new Date(Date.now() + 5 * 86_400_000),
            dsnNotify: o.notify ?? [],
            dsnOrcpt: o.orcpt ?? null,
          },
        }),
      );
    }
    return { message, deliveries };
  }

  const inbox = async () =>
    (await db.prisma.message.findMany({ where: { tenantId, mailboxId }, include: { blob: true } })).map((m) => ({
      subject: m.subject,
      text: Buffer.from(m.blob.bytes!).toString('utf8'),
    }));

  const row = (id: string) =>
    db.prisma.delivery.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id } }, include: { events: true } });

  it('sends a failure DSN by default, with Original-Recipient and Original-Envelope-Id, returning headers only', async () => {
    const { deliveries } = await queue(['hard-default@dest.example'], {
      subject: 'Default',
      envid: 'QQ314159',
      orcpt: 'rfc822;Hard-Default@dest.example',
    });
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ bounced: 1 });
    const [dsn, ...more] = await inbox();
    expect(more).toHaveLength(0);
    expect(dsn!.subject).toBe('Undelivered Mail Returned to Sender: Default');
    expect(dsn!.text).toContain('Original-Envelope-Id: QQ314159\r\nReporting-MTA: dns; mx.mailroom.test');
    expect(dsn!.text).toMatch(
      /Original-Recipient: rfc822;Hard-Default@dest\.example\r\nFinal-Recipient: rfc822; hard-default@dest\.example\r\nAction: failed\r\nStatus: 5\.1\.1/,
    );
    expect(dsn!.text).toContain('Content-Type: text/rfc822-headers');
    expect(dsn!.text).not.toContain('The body line.');
    const after = await row(deliveries[0]!.id);
    expect(after.dsnSent).toBe(true);
    expect(after.events.map((e) => e.type).sort()).toEqual(['attempt', 'bounced', 'dsn_sent']);
  });

  it('RET=FULL returns the whole message (message/rfc822)', async () => {
    const { deliveries } = await queue(['hard-full@dest.example'], { subject: 'Full', ret: 'FULL' });
    await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id });
    const [dsn] = await inbox();
    expect(dsn!.text).toContain('Content-Type: message/rfc822');
    expect(dsn!.text).not.toContain('Content-Type: text/rfc822-headers');
    expect(dsn!.text).toContain('The body line.');
  });

  it('RET=HDRS returns the header only (text/rfc822-headers)', async () => {
    const { deliveries } = await queue(['hard-hdrs@dest.example'], { subject: 'Hdrs', ret: 'HDRS' });
    await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id });
    const [dsn] = await inbox();
    expect(dsn!.text).toContain('Content-Type: text/rfc822-headers');
    expect(dsn!.text).toContain('Subject: Hdrs');
    expect(dsn!.text).not.toContain('The body line.');
  });

  it('NOTIFY=NEVER: the bounce is recorded and suppressed, and no DSN is ever sent', async () => {
    const { deliveries } = await queue(['hard-never@dest.example'], { notify: ['NEVER'] });
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ bounced: 1 });
    expect(await inbox()).toEqual([]);
    const after = await row(deliveries[0]!.id);
    expect(after).toMatchObject({ status: 'bounced', dsnSent: false });
    expect(await db.prisma.suppression.count({ where: { tenantId, address: 'hard-never@dest.example' } })).toBe(1);
  });

  it('NOTIFY without FAILURE: no failure DSN', async () => {
    const { deliveries } = await queue(['hard-nofail@dest.example'], { notify: ['SUCCESS', 'DELAY'] });
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ bounced: 1 });
    expect(await inbox()).toEqual([]);
  });

  it('NOTIFY=DELAY: one delay DSN after the first deferral, not repeated', async () => {
    const { deliveries } = await queue(['temp-delay@dest.example'], { subject: 'Slow', notify: ['DELAY', 'FAILURE'] });
    const id = deliveries[0]!.id;
    expect(await sut.deliver({ tenantId, deliveryId: id })).toMatchObject({ deferred: 1 });
    const first = await inbox();
    expect(first).toHaveLength(1);
    expect(first[0]!.subject).toBe('Delayed Mail (still being retried): Slow');
    expect(first[0]!.text).toMatch(
      /Final-Recipient: rfc822; temp-delay@dest\.example\r\nAction: delayed\r\nStatus: 4\.2\.1/,
    );
    expect(first[0]!.text).toContain('Will-Retry-Until: ');
    await db.prisma.delivery.update({ where: { tenantId_id: { tenantId, id } }, data: { nextAttemptAt: new Date() } });
    expect(await sut.deliver({ tenantId, deliveryId: id, attempt: 1 })).toMatchObject({ deferred: 1 });
    expect(await inbox()).toHaveLength(1);
  });

  it('the default (no NOTIFY) sends no delay DSN', async () => {
    const { deliveries } = await queue(['temp-nodelay@dest.example']);
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ deferred: 1 });
    expect(await inbox()).toEqual([]);
  });

  it('NOTIFY=SUCCESS to a next hop without DSN: a success DSN with Action: relayed', async () => {
    const { deliveries } = await queue(['ok-success@dest.example'], {
      subject: 'Tracked',
      notify: ['SUCCESS'],
      orcpt: 'rfc822;ok-success@dest.example',
      envid: 'ENV-1',
    });
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 1 });
    expect(plain.received).toHaveLength(1);
    const got = await inbox();
    expect(got).toHaveLength(1);
    expect(got[0]!.subject).toBe('Successful Mail Delivery Report: Tracked');
    expect(got[0]!.text).toMatch(
      /Final-Recipient: rfc822; ok-success@dest\.example\r\nAction: relayed\r\nStatus: 2\.0\.0/,
    );
    expect(got[0]!.text).toContain('Original-Envelope-Id: ENV-1');
  });

  it('no success DSN without NOTIFY=SUCCESS', async () => {
    const { deliveries } = await queue(['ok-quiet@dest.example']);
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 1 });
    expect(await inbox()).toEqual([]);
  });

  it('passes RET, ENVID, NOTIFY and ORCPT on to a next hop that advertises DSN, which then reports itself', async () => {
    const { deliveries } = await queue(['ok-a@dest.example', 'ok-b@dest.example'], {
      ret: 'HDRS',
      envid: 'env id+1',
      notify: ['SUCCESS', 'FAILURE'],
      orcpt: 'rfc822;list@sender.example',
    });
    expect(await sutDsn.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 2 });
    expect(capable.received).toHaveLength(1);
    const got = capable.received[0]!;
    expect(got.envelopeDsn).toMatchObject({ ret: 'HDRS', envid: 'env id+1' });
    expect(got.rcptDsn).toEqual([
      expect.objectContaining({ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;list@sender.example' }),
      expect.objectContaining({ notify: ['SUCCESS', 'FAILURE'], orcpt: 'rfc822;list@sender.example' }),
    ]);
    // The next hop took the request: it sends the success DSN, not us.
    expect(await inbox()).toEqual([]);
  });

  it('sends recipients with different NOTIFY in transactions of their own', async () => {
    const { deliveries } = await queue(['ok-c@dest.example'], { notify: ['NEVER'] });
    const other = await db.prisma.delivery.create({
      data: {
        tenantId,
        outboundMessageId: deliveries[0]!.outboundMessageId,
        recipient: 'ok-d@dest.example',
        recipientDomain: 'dest.example',
        expiresAt: new Date(Date.now() + 86_400_000),
        dsnNotify: ['FAILURE'],
      },
    });
    expect(await sutDsn.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 2 });
    expect((await row(other.id)).status).toBe('delivered');
    expect(capable.received.map((r) => [r.to, r.rcptDsn.map((d) => (d as { notify?: string[] }).notify)])).toEqual([
      [['ok-c@dest.example'], [['NEVER']]],
      [['ok-d@dest.example'], [['FAILURE']]],
    ]);
  });

  it('a bounced forward sends a DSN from the null sender to the original sender (SRS reversed)', async () => {
    const srs = srsForward('orig@origin.example', 'mx.mailroom.test', srsSecret(masterKey));
    const { deliveries } = await queue(['hard-fwd@dest.example'], {
      kind: 'forward',
      envelopeFrom: srs,
      subject: 'Forwarded',
    });
    const result = await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id });
    expect(result).toMatchObject({ bounced: 1 });
    expect(result!.queued).toHaveLength(1);
    expect(await inbox()).toEqual([]);
    const dsnDelivery = await db.prisma.delivery.findUniqueOrThrow({
      where: { tenantId_id: { tenantId, id: result!.queued[0]! } },
      include: { outboundMessage: true },
    });
    expect(dsnDelivery).toMatchObject({ recipient: 'orig@origin.example', status: 'queued' });
    expect(dsnDelivery.outboundMessage).toMatchObject({ kind: 'dsn', envelopeFrom: '' });

    // Delivered like any outbound mail: from the null sender, to the original sender.
    expect(await sut.deliver({ tenantId, deliveryId: dsnDelivery.id })).toMatchObject({ delivered: 1 });
    expect(plain.received).toHaveLength(1);
    const got = plain.received[0]!;
    expect(got.from).toBe('');
    expect(got.to).toEqual(['orig@origin.example']);
    expect(got.raw).toMatch(/^To: orig@origin\.example\r$/m);
    expect(got.raw).toMatch(/Final-Recipient: rfc822; hard-fwd@dest\.example\r\nAction: failed\r\nStatus: 5\.1\.1/);
    expect((await row(deliveries[0]!.id)).dsnSent).toBe(true);
  });

  it('a bounced forward of a null-sender message sends no DSN', async () => {
    const before = await db.prisma.outboundMessage.count({ where: { tenantId, kind: 'dsn' } });
    const { deliveries } = await queue(['hard-fwd-null@dest.example'], { kind: 'forward', envelopeFrom: '' });
    const result = await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id });
    expect(result).toMatchObject({ bounced: 1, queued: [] });
    expect(await db.prisma.outboundMessage.count({ where: { tenantId, kind: 'dsn' } })).toBe(before);
  });

  it('a forward older than FORWARD_DELIVERY_MAX_AGE_HOURS is given up at its next deferral', async () => {
    const agent = new DeliveryAgent(
      db.prisma,
      configFor(plain.port, { FORWARD_DELIVERY_MAX_AGE_HOURS: '1' }),
      createNodeResolver(config.DNS_SERVERS, 1000, 1),
    );
    try {
      const srs = srsForward('orig@origin.example', 'mx.mailroom.test', srsSecret(masterKey));
      const old = new Date(Date.now() - 2 * 3_600_000);
      const forward = await queue(['temp-fwd-old@dest.example'], {
        kind: 'forward',
        envelopeFrom: srs,
        createdAt: old,
      });
      expect(await agent.deliver({ tenantId, deliveryId: forward.deliveries[0]!.id })).toMatchObject({ bounced: 1 });
      expect((await row(forward.deliveries[0]!.id)).lastResponse).toMatch(/^4\.4\.7 Gave up after 1 attempts/);
      // A submission of the same age is within DELIVERY_MAX_AGE_HOURS: deferred.
      const submission = await queue(['temp-sub-old@dest.example'], { createdAt: old });
      expect(await agent.deliver({ tenantId, deliveryId: submission.deliveries[0]!.id })).toMatchObject({
        deferred: 1,
      });
    } finally {
      agent.close();
    }
  });

  it('records a bounce once: a later DSN from the remote for a delivery the worker bounced changes nothing', async () => {
    const { deliveries } = await queue(['hard-once@dest.example'], { notify: ['NEVER'] });
    await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id });
    const before = await row(deliveries[0]!.id);
    // What the MTA's DSN handler does with a remote DSN at our VERP address.
    const again = await db.prisma.$transaction((tx) =>
      new BounceRepository(tx).record(tenantId, {
        deliveryId: deliveries[0]!.id,
        from: { statuses: ['queued', 'sending', 'deferred', 'delivered'] },
        response: '550 5.1.1 gone',
        smtpCode: 550,
        enhancedCode: '5.1.1',
        hard: true,
      }),
    );
    expect(again).toBeNull();
    const after = await row(deliveries[0]!.id);
    expect(after.events).toHaveLength(before.events.length);
    expect(after.lastResponse).toBe(before.lastResponse);
  });
});
