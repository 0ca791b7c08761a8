import { createHash, randomBytes } from 'node:crypto';
import net from 'node:net';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { SMTPServer } from 'smtp-server';
import { dkimVerify } from 'mailauth/lib/dkim/verify';
import type { Config } from '@mailroom/config';
import { deliveryTestConfig } from '@test/support/delivery-config';
import { createNodeResolver } from '@mailroom/dns';
import { newDkimKey } from '@mailroom/onboarding';
import { DeliveryAgent } from '@mailroom/worker/delivery/delivery-agent';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { freePort } from '@test/support/processes';
import { startLocalS3 } from '@test/support/s3';
import { objectKey, useBlobStore } from '@mailroom/mailstore';
import { queueOutboundRows } from '@test/support/outbound-rows';

interface Received {
  from: string;
  to: string[];
  raw: Buffer;
}

/**
 * A remote MX on loopback that answers per recipient: `ok@` 250, `temp@` 451 the first time then
 * 250, `hard@` 550 5.1.1; every accepted message is kept with its envelope.
 */
async function startSink(): Promise<{
  port: number;
  received: Received[];
  /** SMTP sessions opened so far. */
  sessions(): number;
  /** Closes every open session from the server's side (an idle timeout at the remote). */
  dropSessions(): void;
  /** Holds `hold@` recipients at RCPT until the returned function is called; `held` resolves when one is. */
  hold(): { held: Promise<void>; release: () => void };
  close(): Promise<void>;
}> {
  const received: Received[] = [];
  let sessions = 0;
  let gate: { opened: Promise<void>; held: () => void } | null = null;
  const seenTemp = new Set<string>();
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onConnect(_session, callback) {
      sessions++;
      callback();
    },
    onRcptTo(address, _session, callback) {
      const local = address.address.split('@')[0]!;
      if (local.startsWith('hold') && gate) {
        gate.held();
        void gate.opened.then(() => callback());
        return;
      }
      if (local.startsWith('hard')) {
        return callback(
          Object.assign(new Error('5.1.1 <' + address.address + '>: User unknown'), { responseCode: 550 }),
        );
      }
      if (local.startsWith('temp') && !seenTemp.has(address.address)) {
        seenTemp.add(address.address);
        return callback(Object.assign(new Error('4.2.1 Mailbox busy, try later'), { responseCode: 451 }));
      }
      callback();
    },
    onData(stream, session, callback) {
      const chunks: Buffer[] = [];
      stream.on('data', (c: Buffer) => chunks.push(c));
      stream.on('end', () => {
        received.push({
          from: session.envelope.mailFrom ? session.envelope.mailFrom.address : '',
          to: session.envelope.rcptTo.map((r) => r.address),
          raw: Buffer.concat(chunks),
        });
        callback();
      });
    },
  });
  const port = await freePort();
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  // smtp-server keeps its open sessions here; the type does not say so.
  const open = (server as unknown as { connections: Set<{ close(): void }> }).connections;
  return {
    port,
    received,
    sessions: () => sessions,
    dropSessions: () => open.forEach((c) => c.close()),
    hold: () => {
      let release!: () => void;
      let held!: () => void;
      const opened = new Promise<void>((resolve) => (release = resolve));
      const heldNow = new Promise<void>((resolve) => (held = resolve));
      gate = { opened, held };
      return {
        held: heldNow,
        release: () => {
          gate = null;
          release();
        },
      };
    },
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

describe('outbound delivery', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let sink: Awaited<ReturnType<typeof startSink>>;
  let config: Config;
  let sut: DeliveryAgent;
  let tenantId: string;
  let mailboxId: string;
  let publicKey: string;
  let selector: string;
  const masterKey = randomBytes(32);

  const configFor = (port: number, extra: Record<string, string> = {}) =>
    deliveryTestConfig({ databaseUrl: db.url, dnsPort: dns.port, masterKey, port }, extra);

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start(
      [
        'dest.example. 60 IN MX 10 sink.dest.example.',
        'sink.dest.example. 60 IN A 127.0.0.1',
        'nullmx.example. 60 IN MX 0 .',
        'bare.example. 60 IN A 127.0.0.1',
        'busy.example. 60 IN MX 10 sink.busy.example.',
        ...Array.from({ length: 8 }, (_, n) => `many.example. 60 IN MX ${n + 1} m${n}.many.example.`),
        ...Array.from({ length: 8 }, (_, n) => `m${n}.many.example. 60 IN A 127.0.0.1`),
        'sink.busy.example. 60 IN A 127.0.0.1',
      ].join('\n'),
    );
    sink = await startSink();
    config = configFor(sink.port);
    sut = new DeliveryAgent(db.prisma, config, createNodeResolver(config.DNS_SERVERS, 1000, 1));

    const tenant = await db.prisma.tenant.create({ data: { name: 'Sender Co' } });
    tenantId = tenant.id;
    const domain = await db.prisma.domain.create({
      data: { tenantId, name: 'sender.example', unicodeName: 'sender.example', ownershipToken: 't', status: 'active' },
    });
    const key = await newDkimKey(masterKey, new Date(), []);
    publicKey = key.publicKey;
    selector = key.selector;
    await db.prisma.dkimKey.create({
      data: { tenantId, domainId: domain.id, ...key, status: 'active', activatedAt: new Date() },
    });
    const mailbox = await db.prisma.mailbox.create({
      data: { tenantId, domainId: domain.id, localPart: 'alice', passwordHash: 'x' },
    });
    mailboxId = mailbox.id;
    await db.prisma.folder.create({ data: { tenantId, mailboxId, name: 'INBOX', kind: 'inbox' } });
  });

  afterAll(async () => {
    await sink?.close();
    await dns?.close();
    await db?.drop();
  });

  beforeEach(() => {
    sink.received.length = 0;
  });

  /** An outbound message from alice@sender.example with one queued delivery per recipient. */
  async function queue(recipients: string[], subject = 'Hello', body: string | null = 'Hi there.\r\n') {
    const raw = Buffer.from(
      `From: Alice <alice@sender.example>\r\nTo: ${recipients.join(', ')}\r\nSubject: ${subject}\r\n` +
        `Message-ID: <${randomBytes(6).toString('hex')}@sender.example>\r\nDate: ${new Date().toUTCString()}\r\n` +
        (body === null ? '' : `\r\n${body}`),
    );
    const sha256 = createHash('sha256').update(raw).digest('hex');
    await db.prisma.messageBlob.upsert({
      where: { tenantId_sha256: { tenantId, sha256 } },
      create: { tenantId, sha256, size: raw.length, bytes: raw },
      update: {},
    });
    const message = await db.prisma.outboundMessage.create({
      data: {
        tenantId,
        kind: 'submission',
        mailboxId,
        envelopeFrom: 'alice@sender.example',
        fromDomain: 'sender.example',
        subject,
        blobSha256: sha256,
        size: raw.length,
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
          },
        }),
      );
    }
    return { message, deliveries, raw };
  }

  const row = (id: string) =>
    db.prisma.delivery.findUniqueOrThrow({
      where: { tenantId_id: { tenantId, id } },
      include: { events: { orderBy: { createdAt: 'asc' } } },
    });

  it('delivers DKIM-signed mail whose signature verifies, batching the recipients of one domain', async () => {
    const { deliveries } = await queue(['ok1@dest.example', 'ok2@dest.example']);
    const result = await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id });
    expect(result).toMatchObject({ claimed: 2, delivered: 2, deferred: 0, bounced: 0 });
    expect(sink.received).toHaveLength(1);
    const got = sink.received[0]!;
    expect(got.to.sort()).toEqual(['ok1@dest.example', 'ok2@dest.example']);
    expect(got.from).toMatch(/^bounces\+[a-z2-7]{26}\.[a-z2-7]{26}@mx\.mailroom\.test$/);
    const verified = await dkimVerify(got.raw, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === `${selector}._domainkey.sender.example`) {
          return [[`v=DKIM1; k=rsa; p=${publicKey}`]];
        }
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    // With the reason, so a failure says which part did not verify.
    expect(verified.results.map((r) => [r.status.result, r.status.comment ?? ''])).toEqual([['pass', '']]);
    for (const d of deliveries) {
      const after = await row(d.id);
      expect(after.status).toBe('delivered');
      expect(after.attempts).toBe(1);
      expect(after.lastResponseCode).toBe(250);
      expect(after.events.map((e) => e.type)).toEqual(['attempt', 'delivered']);
      expect(after.events[0]).toMatchObject({ remoteHost: 'sink.dest.example', remoteIp: '127.0.0.1', smtpCode: 250 });
    }
    // Run the same job again: nothing is sent twice.
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toBeNull();
    expect(sink.received).toHaveLength(1);
  });

  it('signs and delivers a message that is all header (no empty line, no body)', async () => {
    // RFC 5322 makes the body optional; a remote sender's forwarded message may have none.
    const { deliveries } = await queue(['ok-headeronly@dest.example'], 'No body', null);
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 1 });
    const got = sink.received.find((r) => r.to.includes('ok-headeronly@dest.example'))!;
    expect(got.raw.toString()).toMatch(/\r\nSubject: No body\r\n/);
    const verified = await dkimVerify(got.raw, {
      resolver: async (name: string, type: string) => {
        if (type === 'TXT' && name === `${selector}._domainkey.sender.example`) {
          return [[`v=DKIM1; k=rsa; p=${publicKey}`]];
        }
        throw Object.assign(new Error('not found'), { code: 'ENOTFOUND' });
      },
    });
    expect(verified.results.map((r) => [r.status.result, r.status.comment ?? ''])).toEqual([['pass', '']]);
  });

  it('defers, not leaves in sending, a delivery whose DKIM key cannot be used', async () => {
    // A key sealed with another MASTER_KEY (or damaged): each attempt fails before SMTP. It must
    // follow the retry schedule and expiry like any 4xx, not sit in 'sending' for the stuck-row
    // sweep to start again forever.
    const domain = await db.prisma.domain.findFirstOrThrow({ where: { tenantId, name: 'sender.example' } });
    const bad = await newDkimKey(randomBytes(32), new Date(), [selector]);
    await db.prisma.dkimKey.create({
      data: { tenantId, domainId: domain.id, ...bad, status: 'active', activatedAt: new Date(Date.now() + 60_000) },
    });
    try {
      const agent = new DeliveryAgent(db.prisma, config, createNodeResolver(config.DNS_SERVERS, 1000, 1));
      const { deliveries } = await queue(['ok-badkey@dest.example']);
      const result = await agent.deliver({ tenantId, deliveryId: deliveries[0]!.id }).catch((err: Error) => err);
      expect(result).toMatchObject({ deferred: 1 });
      const after = await row(deliveries[0]!.id);
      expect(after.status).toBe('deferred');
      expect(after.lastResponse).toMatch(/^4\.3\.0 /);
      expect(after.nextAttemptAt.getTime()).toBeGreaterThan(Date.now());
      expect(sink.received.filter((r) => r.to.includes('ok-badkey@dest.example'))).toHaveLength(0);
    } finally {
      await db.prisma.dkimKey.delete({ where: { tenantId_id: { tenantId, id: bad.id } } });
    }
  });

  it('carries the next message to the same host over the open session, and opens a new one when the remote closed it', async () => {
    // A long idle allowance and socket timeout: a loaded machine takes seconds between messages.
    const agent = new DeliveryAgent(
      db.prisma,
      configFor(sink.port, { DELIVERY_CONNECTION_CACHE_MS: '30000', DELIVERY_SOCKET_TIMEOUT_MS: '60000' }),
      createNodeResolver(config.DNS_SERVERS, 1000, 1),
    );
    try {
      const before = sink.sessions();
      for (const subject of ['first', 'second', 'third']) {
        const { deliveries } = await queue([`ok-${subject}@dest.example`], subject);
        expect(await agent.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 1 });
      }
      expect(sink.sessions() - before).toBe(1);
      expect(agent.sessions.size()).toBe(1);

      sink.dropSessions();
      await expect.poll(() => agent.sessions.size()).toBe(0);
      const { deliveries } = await queue(['ok-fourth@dest.example'], 'fourth');
      expect(await agent.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 1 });
      expect(sink.sessions() - before).toBe(2);
      expect(sink.received.map((r) => r.to)).toEqual([
        ['ok-first@dest.example'],
        ['ok-second@dest.example'],
        ['ok-third@dest.example'],
        ['ok-fourth@dest.example'],
      ]);
    } finally {
      agent.close();
    }
    expect(agent.sessions.size()).toBe(0);
  });

  it('opens a session per message when reuse is off (DELIVERY_CONNECTION_CACHE_MS=0)', async () => {
    const agent = new DeliveryAgent(
      db.prisma,
      configFor(sink.port, { DELIVERY_CONNECTION_CACHE_MS: '0' }),
      createNodeResolver(config.DNS_SERVERS, 1000, 1),
    );
    const before = sink.sessions();
    for (const subject of ['one', 'two']) {
      const { deliveries } = await queue([`ok-${subject}@dest.example`], subject);
      expect(await agent.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 1 });
    }
    expect(sink.sessions() - before).toBe(2);
    expect(agent.sessions.size()).toBe(0);
  });

  it('records the outcome even when the database makes it wait longer than a default transaction', async () => {
    const { deliveries } = await queue(['ok-slowdb@dest.example'], 'slow database');
    // Another session holds the tenant row: the outcome's event rows wait for it (their foreign
    // key) for 7 s, past Prisma's default 5 s transaction timeout.
    let release!: () => void;
    const released = new Promise<void>((resolve) => (release = resolve));
    let locked!: () => void;
    const isLocked = new Promise<void>((resolve) => (locked = resolve));
    const holder = db.prisma.$transaction(
      async (tx) => {
        await tx.$queryRaw`SELECT id FROM tenants WHERE id = ${tenantId}::uuid FOR UPDATE`;
        locked();
        await released;
      },
      { timeout: 30_000 },
    );
    await isLocked;
    const timer = setTimeout(release, 7_000);
    const result = await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id });
    clearTimeout(timer);
    release();
    await holder;
    expect(result).toMatchObject({ delivered: 1 });
    const after = await row(deliveries[0]!.id);
    expect(after.status).toBe('delivered');
    expect(after.events.map((e) => e.type).sort()).toEqual(['attempt', 'delivered']);
    expect(sink.received.map((r) => r.to)).toEqual([['ok-slowdb@dest.example']]);
  }, 30_000);

  it('defers on 4xx with the retry schedule, then delivers exactly once on the next attempt', async () => {
    const { deliveries } = await queue(['temp@dest.example']);
    const id = deliveries[0]!.id;
    expect(await sut.deliver({ tenantId, deliveryId: id })).toMatchObject({ deferred: 1 });
    const deferred = await row(id);
    expect(deferred.status).toBe('deferred');
    expect(deferred.lastResponseCode).toBe(451);
    expect(deferred.nextAttemptAt.getTime() - Date.now()).toBeGreaterThan(4 * 60_000); // first step: 5 minutes
    expect(sink.received).toHaveLength(0);
    await db.prisma.delivery.update({ where: { tenantId_id: { tenantId, id } }, data: { nextAttemptAt: new Date() } });
    expect(await sut.deliver({ tenantId, deliveryId: id })).toMatchObject({ delivered: 1 });
    const done = await row(id);
    expect(done).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(done.events.map((e) => e.type)).toEqual(['attempt', 'deferred', 'attempt', 'delivered']);
    expect(sink.received).toHaveLength(1);
  });

  it('an older job of a deferred delivery does not send it before it is due; the retry job of that attempt does', async () => {
    const { deliveries } = await queue(['temp-early@dest.example']);
    const id = deliveries[0]!.id;
    expect(await sut.deliver({ tenantId, deliveryId: id })).toMatchObject({ deferred: 1 });
    expect(await sut.deliver({ tenantId, deliveryId: id })).toBeNull();
    expect(await sut.deliver({ tenantId, deliveryId: id, attempt: 1 })).toMatchObject({ delivered: 1 });
    expect(await row(id)).toMatchObject({ status: 'delivered', attempts: 2 });
    expect(sink.received.map((r) => r.to)).toEqual([['temp-early@dest.example']]);
  });

  it('bounces on 5xx: one DSN in the sender’s Inbox, and the recipient suppressed', async () => {
    const { deliveries } = await queue(['hard@dest.example'], 'Quarterly report');
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ bounced: 1 });
    const after = await row(deliveries[0]!.id);
    expect(after).toMatchObject({ status: 'bounced', lastResponseCode: 550, dsnSent: true });
    const inbox = await db.prisma.message.findMany({ where: { tenantId, mailboxId }, include: { blob: true } });
    expect(inbox).toHaveLength(1);
    const dsn = Buffer.from(inbox[0]!.blob.bytes!).toString('utf8');
    expect(inbox[0]!.subject).toBe('Undelivered Mail Returned to Sender: Quarterly report');
    expect(dsn).toMatch(/Content-Type: multipart\/report; report-type=delivery-status;\s*boundary=/);
    expect(dsn).toContain('Content-Type: message/delivery-status');
    expect(dsn).toMatch(/Final-Recipient: rfc822; hard@dest\.example\r\nAction: failed\r\nStatus: 5\.1\.1/);
    expect(dsn).toContain('Content-Type: text/rfc822-headers');
    expect(inbox[0]!.envelopeFrom).toBe('');
    const suppression = await db.prisma.suppression.findUniqueOrThrow({
      where: { tenantId_address: { tenantId, address: 'hard@dest.example' } },
    });
    expect(suppression.reason).toBe('hard_bounce');
    const mailbox = await db.prisma.mailbox.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id: mailboxId } } });
    expect(Number(mailbox.usedBytes)).toBe(inbox[0]!.size);
  });

  it('bounces at once for a domain with a null MX, without connecting anywhere', async () => {
    const { deliveries } = await queue(['someone@nullmx.example']);
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ bounced: 1 });
    const after = await row(deliveries[0]!.id);
    expect(after.status).toBe('bounced');
    expect(after.lastResponse).toMatch(/^556 5\.1\.10 nullmx\.example accepts no mail/);
    expect(after.events[0]!.remoteHost).toBeNull();
    expect(sink.received).toHaveLength(0);
  });

  it('falls back to the domain’s own address when it has no MX', async () => {
    const { deliveries } = await queue(['ok@bare.example']);
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ delivered: 1 });
    expect((await row(deliveries[0]!.id)).remoteHost).toBe('bare.example');
  });

  it('defers, not fails, when the remote accepts the connection and never answers', async () => {
    const silent = net.createServer(() => undefined); // accepts, never greets
    const port = await freePort();
    await new Promise<void>((resolve) => silent.listen(port, '127.0.0.1', resolve));
    try {
      const agent = new DeliveryAgent(db.prisma, configFor(port), createNodeResolver(config.DNS_SERVERS, 1000, 1));
      const { deliveries } = await queue(['ok@dest.example']);
      expect(await agent.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ deferred: 1 });
      const after = await row(deliveries[0]!.id);
      expect(after.status).toBe('deferred');
      expect(after.lastResponseCode).toBeNull();
    } finally {
      silent.close();
    }
  });

  it('tries at most five addresses per attempt, however many MX hosts a domain lists', async () => {
    // Postfix's smtp_mx_address_limit: a domain listing dozens of dead MX hosts must not hold
    // the job and its destination slot for dozens of connect or greeting timeouts.
    let connections = 0;
    const closer = net.createServer((socket) => {
      connections++;
      socket.destroy();
    });
    const port = await freePort();
    await new Promise<void>((resolve) => closer.listen(port, '127.0.0.1', resolve));
    try {
      const agent = new DeliveryAgent(db.prisma, configFor(port), createNodeResolver(config.DNS_SERVERS, 1000, 1));
      const { deliveries } = await queue(['ok@many.example']);
      expect(await agent.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ deferred: 1 });
      expect(connections).toBe(5);
    } finally {
      closer.close();
    }
  });

  it('defers when the remote drip-feeds its greeting (the session deadline, not the idle timer, ends it)', async () => {
    const drip = net.createServer((socket) => {
      socket.write('220-');
      const timer = setInterval(() => socket.write('x'), 200); // never completes a line, never idles
      socket.on('close', () => clearInterval(timer));
      socket.on('error', () => clearInterval(timer));
    });
    const port = await freePort();
    await new Promise<void>((resolve) => drip.listen(port, '127.0.0.1', resolve));
    try {
      const agent = new DeliveryAgent(db.prisma, configFor(port), createNodeResolver(config.DNS_SERVERS, 1000, 1));
      const { deliveries } = await queue(['ok-drip@dest.example']);
      expect(await agent.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ deferred: 1 });
      expect((await row(deliveries[0]!.id)).lastResponse).toMatch(/session took longer than 3000 ms|ETIMEDOUT/);
    } finally {
      drip.close();
    }
  });

  it('gives up after the delivery expires, with a DSN saying so, and suppresses no one', async () => {
    const { deliveries } = await queue(['temp-expiring@dest.example']);
    await db.prisma.delivery.update({
      where: { tenantId_id: { tenantId, id: deliveries[0]!.id } },
      data: { expiresAt: new Date(Date.now() + 60_000) },
    });
    expect(await sut.deliver({ tenantId, deliveryId: deliveries[0]!.id })).toMatchObject({ bounced: 1 });
    const after = await row(deliveries[0]!.id);
    expect(after.lastResponse).toMatch(/^4\.4\.7 Gave up after 1 attempts; last reply: 451/);
    expect(await db.prisma.suppression.count({ where: { tenantId, address: 'temp-expiring@dest.example' } })).toBe(0);
  });

  it('the sweeper finds due and stuck deliveries that Redis lost', async () => {
    const { deliveries } = await queue(['ok-swept@dest.example', 'ok-stuck@dest.example']);
    await db.prisma.delivery.update({
      where: { tenantId_id: { tenantId, id: deliveries[1]!.id } },
      data: { status: 'sending', lastAttemptAt: new Date(Date.now() - 20 * 60_000) },
    });
    const due = await sut.sweep();
    expect(due.map((d) => d.id)).toEqual(expect.arrayContaining(deliveries.map((d) => d.id)));
    expect((await row(deliveries[1]!.id)).status).toBe('deferred');
  });

  it('a delivery that waited for its destination slot past the stuck window is not sent twice', async () => {
    // One session at a time to busy.example: the first message holds it at the remote; the
    // second is claimed and waits for the slot. The stuck-row sweep (15 minutes after the
    // claim, simulated) hands it to another worker, which delivers it. When the slot frees,
    // the waiting job must not send it again; a waiter the sweep left alone still delivers.
    const agent = new DeliveryAgent(
      db.prisma,
      configFor(sink.port, {
        DELIVERY_CONCURRENCY_PER_DOMAIN: '1',
        DELIVERY_SOCKET_TIMEOUT_MS: '30000',
        DELIVERY_SESSION_TIMEOUT_MS: '30000',
      }),
      createNodeResolver(config.DNS_SERVERS, 1000, 1),
      { renewClaimAfterMs: 0 },
    );
    const other = new DeliveryAgent(db.prisma, config, createNodeResolver(config.DNS_SERVERS, 1000, 1));
    const gate = sink.hold();
    let opened = false;
    try {
      const first = await queue(['hold@busy.example']);
      const stolen = await queue(['ok-stolen@busy.example']);
      const kept = await queue(['ok-kept@busy.example']);
      const holding = agent.deliver({ tenantId, deliveryId: first.deliveries[0]!.id });
      await gate.held;
      const waiting = agent.deliver({ tenantId, deliveryId: stolen.deliveries[0]!.id });
      const waitingToo = agent.deliver({ tenantId, deliveryId: kept.deliveries[0]!.id });
      for (const d of [stolen.deliveries[0]!, kept.deliveries[0]!]) {
        await expect.poll(async () => (await row(d.id)).status, { timeout: 5_000 }).toBe('sending');
      }
      await db.prisma.delivery.update({
        where: { tenantId_id: { tenantId, id: stolen.deliveries[0]!.id } },
        data: { lastAttemptAt: new Date(Date.now() - 20 * 60_000) },
      });
      await agent.sweep();
      expect((await row(stolen.deliveries[0]!.id)).status).toBe('deferred');
      expect(await other.deliver({ tenantId, deliveryId: stolen.deliveries[0]!.id, attempt: 1 })).toMatchObject({
        delivered: 1,
      });
      gate.release();
      opened = true;
      expect(await holding).toMatchObject({ delivered: 1 });
      await waiting;
      expect(await waitingToo).toMatchObject({ delivered: 1 });
      const to = (address: string) => sink.received.filter((r) => r.to.includes(address)).length;
      expect(to('ok-stolen@busy.example')).toBe(1);
      expect(to('ok-kept@busy.example')).toBe(1);
      expect(await row(stolen.deliveries[0]!.id)).toMatchObject({ status: 'delivered', attempts: 2 });
      expect(await row(kept.deliveries[0]!.id)).toMatchObject({ status: 'delivered', attempts: 1 });
    } finally {
      if (!opened) gate.release();
      agent.close();
      other.close();
    }
  });

  it('delivers a body stored in S3, and defers with 4.3.0 (no send, no stuck claim) while S3 is down', async () => {
    const s3 = await startLocalS3();
    const previous = useBlobStore(s3.store());
    try {
      /** A queued message whose body then lives only in S3, as after blobs:migrate. */
      const inS3 = async (recipient: string) => {
        const q = await queue([recipient], 'From S3');
        const sha256 = createHash('sha256').update(q.raw).digest('hex');
        await s3.store().objects!.put(objectKey(tenantId, sha256), q.raw);
        await db.prisma
          .$executeRaw`UPDATE message_blobs SET storage = 's3', storage_key = ${objectKey(tenantId, sha256)},
          bytes = NULL WHERE tenant_id = ${tenantId}::uuid AND sha256 = ${sha256}`;
        return q;
      };
      const sent = await inS3('ok-s3@dest.example');
      expect(await sut.deliver({ tenantId, deliveryId: sent.deliveries[0]!.id })).toMatchObject({ delivered: 1 });
      const got = sink.received.find((r) => r.to.includes('ok-s3@dest.example'))!;
      // DKIM-Signature prepended; the message itself byte for byte.
      expect(got.raw.subarray(got.raw.length - sent.raw.length).equals(sent.raw)).toBe(true);
      expect(got.raw.toString()).toMatch(/^DKIM-Signature: /);

      const held = await inS3('ok-s3-down@dest.example');
      await s3.stop();
      try {
        expect(await sut.deliver({ tenantId, deliveryId: held.deliveries[0]!.id })).toMatchObject({
          delivered: 0,
          deferred: 1,
        });
      } finally {
        await s3.start();
      }
      const after = await row(held.deliveries[0]!.id);
      expect(after.status).toBe('deferred');
      expect(after.lastResponse).toMatch(/^4\.3\.0 Could not read the message body/);
      expect(sink.received.some((r) => r.to.includes('ok-s3-down@dest.example'))).toBe(false);
    } finally {
      useBlobStore(previous);
      await s3.close();
    }
  });
  it('records the outcomes of concurrent jobs of two tenants, each as its own (webhook events only for the subscriber)', async () => {
    // Outcomes that finish while one is being written go together in the next statement: the
    // tenant with a delivery webhook must still get its events, the other none, and every
    // delivery exactly its own outcome.
    const other = await db.prisma.tenant.create({ data: { name: 'Hooked Co' } });
    await db.prisma.domain.create({
      data: {
        tenantId: other.id,
        name: 'hooked.example',
        unicodeName: 'hooked.example',
        ownershipToken: 't',
        status: 'active',
      },
    });
    await db.prisma.webhook.create({
      data: {
        tenantId: other.id,
        url: 'https://hooks.example/in',
        secretEncrypted: 'x',
        events: ['delivery.delivered'],
      },
    });
    const mine: string[] = [];
    const theirs: string[] = [];
    for (let n = 0; n < 6; n++) {
      mine.push((await queue([n === 0 ? 'temp-group@dest.example' : `ok-group${n}@dest.example`])).deliveries[0]!.id);
      const raw = Buffer.from(`From: b@hooked.example\r\nSubject: hooked ${n}\r\n\r\nHi.\r\n`);
      theirs.push(
        ...(await queueOutboundRows(db.prisma, {
          tenantId: other.id,
          raw,
          envelopeFrom: 'b@hooked.example',
          recipients: [`ok-hooked${n}@dest.example`],
        })),
      );
    }
    const results = await Promise.all([
      ...mine.map((deliveryId) => sut.deliver({ tenantId, deliveryId })),
      ...theirs.map((deliveryId) => sut.deliver({ tenantId: other.id, deliveryId })),
    ]);
    expect(results.slice(0, 6)).toEqual([
      expect.objectContaining({ claimed: 1, deferred: 1, webhookDeliveryIds: [] }),
      ...Array.from({ length: 5 }, () => expect.objectContaining({ claimed: 1, delivered: 1, webhookDeliveryIds: [] })),
    ]);
    for (const r of results.slice(6)) {
      expect(r).toMatchObject({ claimed: 1, delivered: 1 });
      expect(r!.webhookDeliveryIds).toHaveLength(1);
    }
    const rows = await db.prisma.delivery.findMany({
      where: { id: { in: [...mine, ...theirs] } },
      include: { events: { orderBy: { createdAt: 'asc' } } },
    });
    for (const d of rows) {
      const deferred = d.recipient === 'temp-group@dest.example';
      expect(d).toMatchObject({ status: deferred ? 'deferred' : 'delivered', attempts: 1 });
      expect(d.events.map((e) => e.type).sort()).toEqual(['attempt', deferred ? 'deferred' : 'delivered']);
      expect(d.events.every((e) => e.tenantId === d.tenantId)).toBe(true);
    }
    expect(rows).toHaveLength(12);
    const hooks = await db.prisma.webhookDelivery.findMany({ where: { event: 'delivery.delivered' } });
    expect(hooks.map((h) => h.tenantId)).toEqual(Array(6).fill(other.id));
    expect(sink.received.flatMap((r) => r.to).sort()).toEqual(
      [
        ...Array.from({ length: 5 }, (_, n) => `ok-group${n + 1}@dest.example`),
        ...Array.from({ length: 6 }, (_, n) => `ok-hooked${n}@dest.example`),
      ].sort(),
    );
  });
});
