import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from '@mailroom/core';
import { deliverWebhook, recordEvent, WEBHOOK_SECRET_CONTEXT } from '@mailroom/webhooks';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Session, startApi, type TestApi } from '@test/support/api';

describe('webhooks API', () => {
  let db: TestDatabase;
  let api: TestApi;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  const path = () => `/v1/tenants/${tenant.id}/webhooks`;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    const sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('shows the signing secret once and stores it sealed with MASTER_KEY', async () => {
    const res = await tenant.admin.post(path(), {
      url: 'https://hooks.example/mail',
      events: ['domain.status_changed', 'delivery.bounced'],
    });
    expect(res.status).toBe(201);
    expect(res.body.secret).toMatch(/^whsec_/);
    const row = await db.prisma.webhook.findFirstOrThrow({ where: { id: res.body.id } });
    expect(row.secretEncrypted).not.toContain(res.body.secret);
    expect(open(api.config.MASTER_KEY, row.secretEncrypted, WEBHOOK_SECRET_CONTEXT(row.id))).toBe(res.body.secret);
    const got = await tenant.admin.get(`${path()}/${res.body.id}`);
    expect(got.body).not.toHaveProperty('secret');
    expect(JSON.stringify((await tenant.admin.get(path())).body)).not.toContain(res.body.secret);
  });

  it('validates events and URLs, naming the field', async () => {
    const bad = await tenant.admin.post(path(), { url: 'ftp://hooks.example', events: ['mail.eaten'] });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['events.0', 'url']);
  });

  it('updates, disables and deletes, with audit entries', async () => {
    const created = await tenant.admin.post(path(), { url: 'https://hooks.example/a', events: ['*'] });
    const updated = await tenant.admin.patch(`${path()}/${created.body.id}`, {
      enabled: false,
      url: 'https://hooks.example/b',
    });
    expect(updated.body).toMatchObject({ enabled: false, url: 'https://hooks.example/b' });
    expect((await tenant.admin.delete(`${path()}/${created.body.id}`)).status).toBe(204);
    expect((await tenant.admin.get(`${path()}/${created.body.id}`)).status).toBe(404);
    const log = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=webhook.*`);
    expect(log.body.items.map((e: { action: string }) => e.action)).toEqual(
      expect.arrayContaining(['webhook.create', 'webhook.update', 'webhook.delete']),
    );
    expect(JSON.stringify(log.body)).not.toContain('whsec_');
  });

  it('refuses private and loopback targets in production (SSRF)', async () => {
    const prod = await startApi(db, {
      NODE_ENV: 'production',
      TLS_CERT_PATH: '/dev/null',
      TLS_KEY_PATH: '/dev/null',
      MASTER_KEY: api.config.MASTER_KEY.toString('hex'),
    });
    try {
      const client = new (tenant.admin.constructor as new (api: TestApi, token?: string) => typeof tenant.admin)(
        prod,
        tenant.admin.token,
      );
      for (const url of ['http://127.0.0.1:9/x', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://localhost/x']) {
        const res = await client.post(path(), { url, events: ['*'] });
        expect(res.status, url).toBe(422);
        expect(res.body.errors[0]).toEqual({
          field: 'url',
          message: 'must not point at a private or loopback address',
        });
      }
      expect((await client.post(path(), { url: 'https://hooks.example/ok', events: ['*'] })).status).toBe(201);
    } finally {
      await prod.close();
    }
  });

  it('refuses, at delivery time, a webhook whose host is internal (production), and records why', async () => {
    const hook = await tenant.admin.post(path(), { url: 'http://127.0.0.1:9/hook', events: ['*'] });
    await db.prisma.$transaction((tx) => recordEvent(tx, tenant.id, 'domain.status_changed', { probe: true }));
    const { id } = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { webhookId: hook.body.id } });
    await expect(
      deliverWebhook(
        db.prisma,
        api.config.MASTER_KEY,
        { tenantId: tenant.id, webhookDeliveryId: id },
        { allowPrivate: false },
      ),
    ).rejects.toThrow(/answered refused: 127\.0\.0\.1 is an internal address/);
    // A name is checked at connect time, in the socket's own lookup (no rebinding window).
    const named = await tenant.admin.post(path(), {
      url: 'http://localhost:9/hook',
      events: ['domain.status_changed'],
    });
    await db.prisma.$transaction((tx) => recordEvent(tx, tenant.id, 'domain.status_changed', { probe: 2 }));
    const viaName = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { webhookId: named.body.id } });
    await expect(
      deliverWebhook(
        db.prisma,
        api.config.MASTER_KEY,
        { tenantId: tenant.id, webhookDeliveryId: viaName.id },
        { allowPrivate: false },
      ),
    ).rejects.toThrow(/refused: localhost resolves to an internal address \((127\.0\.0\.1|::1)\)/);
    const row = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { id } });
    expect(row).toMatchObject({ status: 'pending', attempts: 1, lastStatusCode: null });
    expect(row.lastError).toMatch(/^refused: /);
    expect(hook.status).toBe(201);
  });
});
