import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Session, startApi, type TestApi } from '@test/support/api';

describe('deliveries, trace and suppressions', () => {
  let db: TestDatabase;
  let api: TestApi;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  const ids: Record<string, string> = {};
  const base = () => `/v1/tenants/${tenant.id}`;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    const sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
    const tenantId = tenant.id;
    const raw = Buffer.from('From: a@acme.example\r\nSubject: Invoice\r\n\r\nbody\r\n');
    const sha256 = createHash('sha256').update(raw).digest('hex');
    await db.prisma.messageBlob.create({ data: { tenantId, sha256, size: raw.length, bytes: raw } });
    const domain = await db.prisma.domain.create({
      data: { tenantId, name: 'acme.example', unicodeName: 'acme.example', ownershipToken: 't', status: 'active' },
    });
    const mailbox = await db.prisma.mailbox.create({
      data: { tenantId, domainId: domain.id, localPart: 'bob', passwordHash: 'x' },
    });
    const inbox = await db.prisma.folder.create({
      data: { tenantId, mailboxId: mailbox.id, name: 'INBOX', kind: 'inbox' },
    });
    const inbound = await db.prisma.message.create({
      data: {
        tenantId,
        mailboxId: mailbox.id,
        folderId: inbox.id,
        blobSha256: sha256,
        uid: 1,
        size: raw.length,
        envelopeFrom: 'partner@elsewhere.example',
        envelopeTo: 'bob@acme.example',
        messageIdHeader: '<inv-42@elsewhere.example>',
        spamScore: 1.5,
        authResults: { spf: 'pass', dkim: 'pass', dmarc: 'pass' },
        filterTrace: { matched: [{ name: 'Invoices to accounting' }], folder: 'INBOX' },
      },
    });
    const forward = await db.prisma.outboundMessage.create({
      data: {
        tenantId,
        kind: 'forward',
        envelopeFrom: 'SRS0=abcd=TT=elsewhere.example=partner@mx.mailroom.test',
        fromDomain: 'acme.example',
        messageIdHeader: '<inv-42@elsewhere.example>',
        subject: 'Invoice',
        blobSha256: sha256,
        size: raw.length,
        sourceMessageId: inbound.id,
      },
    });
    const sent = await db.prisma.outboundMessage.create({
      data: {
        tenantId,
        kind: 'submission',
        mailboxId: mailbox.id,
        envelopeFrom: 'bob@acme.example',
        fromDomain: 'acme.example',
        messageIdHeader: '<reply-1@acme.example>',
        subject: 'Re: Invoice',
        blobSha256: sha256,
        size: raw.length,
      },
    });
    const expiresAt = new Date(Date.now() + 86_400_000);
    const d = (outboundMessageId: string, recipient: string, status: 'queued' | 'deferred' | 'delivered' | 'bounced') =>
      db.prisma.delivery.create({
        data: {
          tenantId,
          outboundMessageId,
          recipient,
          recipientDomain: recipient.split('@')[1]!,
          status,
          expiresAt,
          nextAttemptAt: new Date(Date.now() + 3_600_000),
        },
      });
    ids.forwarded = (await d(forward.id, 'bob.private@gmail.example', 'delivered')).id;
    ids.deferred = (await d(sent.id, 'partner@elsewhere.example', 'deferred')).id;
    ids.bounced = (await d(sent.id, 'old@elsewhere.example', 'bounced')).id;
    await db.prisma.deliveryEvent.create({
      data: {
        tenantId,
        deliveryId: ids.deferred!,
        type: 'attempt',
        remoteHost: 'mx.elsewhere.example',
        remoteIp: '192.0.2.7',
        smtpCode: 451,
        enhancedCode: '4.2.1',
        response: '451 4.2.1 Mailbox busy',
        durationMs: 812,
      },
    });
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('searches deliveries by message id, recipient and status', async () => {
    const byMessage = await tenant.admin.get(`${base()}/deliveries?messageId=reply-1@acme.example`);
    expect(byMessage.status).toBe(200);
    expect(byMessage.body.items.map((d: { recipient: string }) => d.recipient).sort()).toEqual([
      'old@elsewhere.example',
      'partner@elsewhere.example',
    ]);
    const bounced = await tenant.admin.get(`${base()}/deliveries?status=bounced`);
    expect(bounced.body.items.map((d: { id: string }) => d.id)).toEqual([ids.bounced]);
    const byRecipient = await tenant.admin.get(`${base()}/deliveries?recipient=BOB.private@gmail.example`);
    expect(byRecipient.body.items[0]).toMatchObject({ kind: 'forward', status: 'delivered', subject: 'Invoice' });
  });

  it('shows a delivery with every attempt and the remote’s reply', async () => {
    const res = await tenant.viewer.get(`${base()}/deliveries/${ids.deferred}`);
    expect(res.status).toBe(200);
    expect(res.body.events).toEqual([
      expect.objectContaining({
        type: 'attempt',
        remoteHost: 'mx.elsewhere.example',
        smtpCode: 451,
        enhancedCode: '4.2.1',
        response: '451 4.2.1 Mailbox busy',
        durationMs: 812,
      }),
    ]);
  });

  it('retries a deferred delivery now, refuses finished ones, and cancels', async () => {
    const retried = await tenant.admin.post(`${base()}/deliveries/${ids.deferred}/retry`);
    expect(retried.status).toBe(200);
    expect(new Date(retried.body.nextAttemptAt).getTime()).toBeLessThanOrEqual(Date.now());
    expect(retried.body.events.map((e: { type: string }) => e.type)).toEqual(['attempt', 'retry_requested']);
    const finished = await tenant.admin.post(`${base()}/deliveries/${ids.bounced}/retry`);
    expect(finished.status).toBe(409);
    expect(finished.body.detail).toBe(
      `Delivery ${ids.bounced} is bounced; only queued or deferred deliveries can be retried.`,
    );
    const cancelled = await tenant.admin.post(`${base()}/deliveries/${ids.deferred}/cancel`);
    expect(cancelled.body.status).toBe('cancelled');
    expect((await tenant.viewer.post(`${base()}/deliveries/${ids.deferred}/retry`)).status).toBe(403);
  });

  it('traces a message end to end: inbound verdicts, the filter that fired, and the forward’s attempts', async () => {
    const res = await tenant.admin.get(`${base()}/trace?messageId=${encodeURIComponent('<inv-42@elsewhere.example>')}`);
    expect(res.status).toBe(200);
    expect(res.body.inbound).toEqual([
      expect.objectContaining({
        mailbox: 'bob@acme.example',
        folder: 'INBOX',
        spamScore: 1.5,
        authResults: { spf: 'pass', dkim: 'pass', dmarc: 'pass' },
        filterTrace: { matched: [{ name: 'Invoices to accounting' }], folder: 'INBOX' },
      }),
    ]);
    expect(res.body.outbound).toHaveLength(1);
    expect(res.body.outbound[0]).toMatchObject({
      kind: 'forward',
      deliveries: [expect.objectContaining({ recipient: 'bob.private@gmail.example', status: 'delivered' })],
    });
    expect((await tenant.admin.get(`${base()}/trace`)).status).toBe(422);
  });

  it('lists, adds and removes suppressions', async () => {
    const added = await tenant.admin.post(`${base()}/suppressions`, { address: 'Nobody@Elsewhere.example' });
    expect(added.status).toBe(201);
    expect(added.body).toMatchObject({ address: 'nobody@elsewhere.example', reason: 'manual' });
    expect((await tenant.admin.post(`${base()}/suppressions`, { address: 'nobody@elsewhere.example' })).status).toBe(
      409,
    );
    const list = await tenant.admin.get(`${base()}/suppressions?q=nobody`);
    expect(list.body.items.map((s: { id: string }) => s.id)).toEqual([added.body.id]);
    expect((await tenant.admin.delete(`${base()}/suppressions/${added.body.id}`)).status).toBe(204);
    expect((await tenant.admin.get(`${base()}/suppressions?q=nobody`)).body.items).toEqual([]);
  });
});
