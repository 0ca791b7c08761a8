import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { createRedis, JobName, JobProducer, QueueName } from '@mailroom/queue';
import { expectProblem, expectStatus, Session, startApi, type TestApi } from '@test/support/api';

describe('deliveries, trace and suppressions', () => {
  let db: TestDatabase;
  let api: TestApi;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  const ids: Record<string, string> = {};
  const at = () => ({ params: { path: { tenantId: tenant.id } } });
  const one = (deliveryId: string) => ({ params: { path: { tenantId: tenant.id, deliveryId } } });

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
    // Tried once, its next attempt an hour away.
    await db.prisma.delivery.update({ where: { tenantId_id: { tenantId, id: ids.deferred } }, data: { attempts: 1 } });
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
    const list = (query: { messageId?: string; recipient?: string; status?: 'bounced' }) =>
      tenant.admin.typed.GET('/v1/tenants/{tenantId}/deliveries', { params: { path: { tenantId: tenant.id }, query } });
    const byMessage = expectStatus(await list({ messageId: 'reply-1@acme.example' }), 200);
    expect(byMessage.items.map((d) => d.recipient).sort()).toEqual([
      'old@elsewhere.example',
      'partner@elsewhere.example',
    ]);
    const bounced = expectStatus(await list({ status: 'bounced' }), 200);
    expect(bounced.items.map((d) => d.id)).toEqual([ids.bounced]);
    const byRecipient = expectStatus(await list({ recipient: 'BOB.private@gmail.example' }), 200);
    expect(byRecipient.items[0]).toMatchObject({ kind: 'forward', status: 'delivered', subject: 'Invoice' });
  });

  it('shows a delivery with every attempt and the remote’s reply', async () => {
    const res = expectStatus(
      await tenant.viewer.typed.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}', one(ids.deferred!)),
      200,
    );
    expect(res.events).toEqual([
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
    const retry = (caller: typeof tenant.admin, deliveryId: string) =>
      caller.typed.POST('/v1/tenants/{tenantId}/deliveries/{deliveryId}/retry', one(deliveryId));
    // The worker scheduled its retry for later; "retry now" must run that job now, on the retry lane.
    const redis = createRedis(api.config, 'client');
    const producer = new JobProducer(redis, api.config.QUEUE_PREFIX);
    const payload = { tenantId: tenant.id, deliveryId: ids.deferred!, attempt: 1 };
    await producer.add(JobName.DeliveryRetry, payload, { delay: 3_600_000 });
    const job = () => producer.queue(QueueName.DeliveryRetries).getJob(`delivery-${ids.deferred}-1`);
    expect(await (await job())?.getState()).toBe('delayed');
    const retried = expectStatus(await retry(tenant.admin, ids.deferred!), 200);
    expect(new Date(retried.nextAttemptAt!).getTime()).toBeLessThanOrEqual(Date.now());
    expect(await (await job())?.getState()).toBe('waiting');
    await producer.close();
    redis.disconnect();
    expect(retried.events?.map((e) => e.type)).toEqual(['attempt', 'retry_requested']);
    const cancelled = expectStatus(
      await tenant.admin.typed.POST('/v1/tenants/{tenantId}/deliveries/{deliveryId}/cancel', one(ids.deferred!)),
      200,
    );
    expect(cancelled.status).toBe('cancelled');
    const finished = expectProblem(await retry(tenant.admin, ids.deferred!), 409);
    expect(finished.detail).toBe(
      `Delivery ${ids.deferred} is cancelled; only queued, deferred or bounced deliveries can be retried.`,
    );
    expectProblem(await retry(tenant.viewer, ids.deferred!), 403);
  });

  it('sends a bounced delivery again once its recipient is no longer suppressed', async () => {
    const retry = () =>
      tenant.admin.typed.POST('/v1/tenants/{tenantId}/deliveries/{deliveryId}/retry', one(ids.bounced!));
    const before = await db.prisma.delivery.findFirstOrThrow({ where: { id: ids.bounced! } });
    const bounced = await tenant.admin.typed.GET('/v1/tenants/{tenantId}/deliveries/{deliveryId}', one(ids.bounced!));
    const recipient = expectStatus(bounced, 200).recipient;
    // A hard bounce suppresses the address: the retry is refused, saying so, and nothing changes.
    const suppression = await db.prisma.suppression.create({
      data: { tenantId: tenant.id, address: recipient.toLowerCase(), reason: 'hard_bounce', detail: '550 5.1.1' },
    });
    const refused = expectProblem(await retry(), 409);
    expect(refused.detail).toBe(
      `${recipient} is on the suppression list (hard_bounce); lift the suppression before retrying delivery ${ids.bounced}.`,
    );
    expect((await db.prisma.delivery.findFirstOrThrow({ where: { id: ids.bounced! } })).status).toBe('bounced');
    // Lifted (here: expired), the retry queues it with a fresh lifetime and its failure notice owed again.
    await db.prisma.suppression.update({
      where: { tenantId_id: { tenantId: tenant.id, id: suppression.id } },
      data: { expiresAt: new Date(Date.now() - 1000) },
    });
    const requeued = expectStatus(await retry(), 200);
    expect(requeued.status).toBe('queued');
    expect(requeued.events?.at(-1)).toMatchObject({ type: 'retry_requested' });
    expect(requeued.events?.at(-1)?.response).toMatch(/after it bounced$/);
    const row = await db.prisma.delivery.findFirstOrThrow({ where: { id: ids.bounced! } });
    expect(row.dsnSent).toBe(false);
    expect(row.nextAttemptAt.getTime()).toBeLessThanOrEqual(Date.now());
    expect(row.expiresAt.getTime()).toBeGreaterThan(Math.max(before.expiresAt.getTime(), Date.now() + 3_600_000));
    // Queued now, it is no longer bounced: a second "retry" of the same bounce is an ordinary one.
    expect(expectStatus(await retry(), 200).status).toBe('queued');
  });

  it('traces a message end to end: inbound verdicts, the filter that fired, and the forward’s attempts', async () => {
    const trace = (query: { messageId?: string }) =>
      tenant.admin.typed.GET('/v1/tenants/{tenantId}/trace', { params: { path: { tenantId: tenant.id }, query } });
    const res = expectStatus(await trace({ messageId: '<inv-42@elsewhere.example>' }), 200);
    expect(res.inbound).toEqual([
      expect.objectContaining({
        mailbox: 'bob@acme.example',
        folder: 'INBOX',
        spamScore: 1.5,
        authResults: { spf: 'pass', dkim: 'pass', dmarc: 'pass' },
        filterTrace: { matched: [{ name: 'Invoices to accounting' }], folder: 'INBOX' },
      }),
    ]);
    expect(res.outbound).toHaveLength(1);
    expect(res.outbound[0]).toMatchObject({
      kind: 'forward',
      deliveries: [expect.objectContaining({ recipient: 'bob.private@gmail.example', status: 'delivered' })],
    });
    expectProblem(await trace({}), 422);
  });

  it('lists, adds and removes suppressions', async () => {
    const add = (address: string) =>
      tenant.admin.typed.POST('/v1/tenants/{tenantId}/suppressions', { ...at(), body: { address } });
    const list = () =>
      tenant.admin.typed.GET('/v1/tenants/{tenantId}/suppressions', {
        params: { path: { tenantId: tenant.id }, query: { q: 'nobody' } },
      });
    const added = expectStatus(await add('Nobody@Elsewhere.example'), 201);
    expect(added).toMatchObject({ address: 'nobody@elsewhere.example', reason: 'manual' });
    expectProblem(await add('nobody@elsewhere.example'), 409);
    expect(expectStatus(await list(), 200).items.map((s) => s.id)).toEqual([added.id]);
    expectStatus(
      await tenant.admin.typed.DELETE('/v1/tenants/{tenantId}/suppressions/{suppressionId}', {
        params: { path: { tenantId: tenant.id, suppressionId: added.id } },
      }),
      204,
    );
    expect(expectStatus(await list(), 200).items).toEqual([]);
  });
});
