import { randomBytes, randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { seal } from '@mailroom/core';
import { inTenantScope } from '@mailroom/db';
import { deliverWebhook, recordEvent, WEBHOOK_SECRET_CONTEXT } from '@mailroom/webhooks';
import { createTestDatabase, type TestDatabase } from '@test/support/database';

const MASTER_KEY = randomBytes(32);

/** Webhook deliveries as libs/webhooks records and sends them, against real PostgreSQL and HTTP. */
describe('webhook deliveries', () => {
  let db: TestDatabase;
  let sink: http.Server;
  let url: string;
  let answer = 200;
  let tenantId: string;

  const newHook = async (events: string[], enabled = true) => {
    const id = randomUUID();
    await db.prisma.webhook.create({
      data: {
        tenantId,
        id,
        url,
        events,
        enabled,
        secretEncrypted: seal(MASTER_KEY, 'whsec_test', WEBHOOK_SECRET_CONTEXT(id)),
      },
    });
    return id;
  };
  const deliveriesOf = (webhookId: string) => db.prisma.webhookDelivery.findMany({ where: { tenantId, webhookId } });
  const deliveryRow = (id: string) =>
    db.prisma.webhookDelivery.findUnique({ where: { tenantId_id: { tenantId, id } } });

  beforeAll(async () => {
    db = await createTestDatabase();
    tenantId = (await db.prisma.tenant.create({ data: { name: 'Hooks Ltd' } })).id;
    sink = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => res.writeHead(answer).end());
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;
  });

  afterAll(async () => {
    await new Promise((resolve) => sink.close(resolve));
    await db?.drop();
  });

  it('records an event in a tenant-scoped transaction for each enabled webhook subscribed to it', async () => {
    const exact = await newHook(['domain.status_changed']);
    const all = await newHook(['*']);
    const other = await newHook(['delivery.bounced']);
    const disabled = await newHook(['*'], false);

    const ids = await inTenantScope(db.prisma, tenantId, (tx) =>
      recordEvent(tx, tenantId, 'domain.status_changed', { domain: 'example.com' }),
    );

    expect(ids).toHaveLength(2);
    expect((await deliveriesOf(exact)).map((d) => d.id)).toHaveLength(1);
    expect((await deliveriesOf(all)).map((d) => d.event)).toEqual(['domain.status_changed']);
    expect(await deliveriesOf(other)).toEqual([]);
    expect(await deliveriesOf(disabled)).toEqual([]);
  });

  it('keeps a failed delivery pending until the final attempt marks it failed', async () => {
    const hook = await newHook(['delivery.deferred']);
    await inTenantScope(db.prisma, tenantId, (tx) => recordEvent(tx, tenantId, 'delivery.deferred', {}));
    const id = (await deliveriesOf(hook))[0]!.id;
    answer = 500;
    const ids = { tenantId, webhookDeliveryId: id };

    await expect(deliverWebhook(db.prisma, MASTER_KEY, ids, { allowPrivate: true })).rejects.toThrow(/HTTP 500/);
    const pending = await deliveryRow(id);
    expect(pending).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: 500, lastError: 'HTTP 500' });

    await expect(
      deliverWebhook(db.prisma, MASTER_KEY, ids, { allowPrivate: true, finalAttempt: true }),
    ).rejects.toThrow(/HTTP 500/);
    const failed = await deliveryRow(id);
    expect(failed).toMatchObject({ status: 'failed', attempts: 2, deliveredAt: null });
    expect(await deliverWebhook(db.prisma, MASTER_KEY, ids, { allowPrivate: true })).toBe('skipped');
  });

  it('marks a 2xx answer delivered once and skips the delivery when it runs again', async () => {
    const hook = await newHook(['delivery.delivered']);
    await inTenantScope(db.prisma, tenantId, (tx) => recordEvent(tx, tenantId, 'delivery.delivered', {}));
    const id = (await deliveriesOf(hook))[0]!.id;
    answer = 204;
    const ids = { tenantId, webhookDeliveryId: id };

    expect(await deliverWebhook(db.prisma, MASTER_KEY, ids, { allowPrivate: true })).toBe('delivered');
    expect(await deliverWebhook(db.prisma, MASTER_KEY, ids, { allowPrivate: true })).toBe('skipped');
    const row = await deliveryRow(id);
    expect(row).toMatchObject({ status: 'delivered', attempts: 1, lastStatusCode: 204, lastError: null });
    expect(row!.deliveredAt).toBeInstanceOf(Date);
  });

  it('refuses a tenant scope without a tenant id', () => {
    expect(() => inTenantScope(db.prisma, 'not-a-uuid', async () => undefined)).toThrow(/tenant id/);
  });
});
