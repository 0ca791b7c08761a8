import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { open } from '@mailroom/core';
import { deliverWebhook, recordEvent, WEBHOOK_SECRET_CONTEXT } from '@mailroom/webhooks';
import type { ApiSchema } from '@mailroom/api-client';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Client, expectProblem, expectStatus, Session, startApi, type TestApi } from '@test/support/api';

describe('webhooks API', () => {
  let db: TestDatabase;
  let api: TestApi;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  const path = () => `/v1/tenants/${tenant.id}/webhooks`;
  const at = () => ({ params: { path: { tenantId: tenant.id } } });
  const one = (webhookId: string) => ({ params: { path: { tenantId: tenant.id, webhookId } } });
  const create = (url: string, events: ApiSchema<'CreateWebhookDto'>['events'], caller = tenant.admin) =>
    caller.typed.POST('/v1/tenants/{tenantId}/webhooks', { ...at(), body: { url, events } });

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
    const res = expectStatus(
      await create('https://hooks.example/mail', ['domain.status_changed', 'delivery.bounced']),
      201,
    );
    expect(res.secret).toMatch(/^whsec_/);
    const row = await db.prisma.webhook.findFirstOrThrow({ where: { id: res.id } });
    expect(row.secretEncrypted).not.toContain(res.secret);
    expect(open(api.config.MASTER_KEY, row.secretEncrypted, WEBHOOK_SECRET_CONTEXT(row.id))).toBe(res.secret);
    const got = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/webhooks/{webhookId}', one(res.id)),
      200,
    );
    expect(got).not.toHaveProperty('secret');
    const list = expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/webhooks', at()), 200);
    expect(JSON.stringify(list)).not.toContain(res.secret);
  });

  it('validates events and URLs, naming the field', async () => {
    // Raw: 'mail.eaten' is not an event the document allows, so the typed client cannot send it.
    const bad = await tenant.admin.post(path(), { url: 'ftp://hooks.example', events: ['mail.eaten'] });
    expect(bad.status).toBe(422);
    expect(bad.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['events.0', 'url']);
  });

  it('updates, disables and deletes, with audit entries', async () => {
    const created = expectStatus(await create('https://hooks.example/a', ['*']), 201);
    const updated = expectStatus(
      await tenant.admin.typed.PATCH('/v1/tenants/{tenantId}/webhooks/{webhookId}', {
        ...one(created.id),
        body: { enabled: false, url: 'https://hooks.example/b' },
      }),
      200,
    );
    expect(updated).toMatchObject({ enabled: false, url: 'https://hooks.example/b' });
    expectStatus(await tenant.admin.typed.DELETE('/v1/tenants/{tenantId}/webhooks/{webhookId}', one(created.id)), 204);
    expectProblem(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/webhooks/{webhookId}', one(created.id)), 404);
    const log = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'webhook.*' } },
      }),
      200,
    );
    expect(log.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['webhook.create', 'webhook.update', 'webhook.delete']),
    );
    expect(JSON.stringify(log)).not.toContain('whsec_');
  });

  it('refuses private and loopback targets in production (SSRF)', async () => {
    const prod = await startApi(db, {
      NODE_ENV: 'production',
      TLS_CERT_PATH: '/dev/null',
      TLS_KEY_PATH: '/dev/null',
      MASTER_KEY: api.config.MASTER_KEY.toString('hex'),
    });
    try {
      const client = new Client(prod, tenant.admin.token);
      for (const url of ['http://127.0.0.1:9/x', 'http://10.1.2.3/x', 'http://[::1]/x', 'http://localhost/x']) {
        const res = expectProblem(await create(url, ['*'], client), 422);
        expect(res.errors?.[0], url).toEqual({
          field: 'url',
          message: 'must not point at a private or loopback address',
        });
      }
      expectStatus(await create('https://hooks.example/ok', ['*'], client), 201);
    } finally {
      await prod.close();
    }
  });

  it('refuses, at delivery time, a webhook whose host is internal (production), and records why', async () => {
    const hook = await create('http://127.0.0.1:9/hook', ['*']);
    const hookId = expectStatus(hook, 201).id;
    await db.prisma.$transaction((tx) => recordEvent(tx, tenant.id, 'domain.status_changed', { probe: true }));
    const { id } = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { webhookId: hookId } });
    await expect(
      deliverWebhook(
        db.prisma,
        api.config.MASTER_KEY,
        { tenantId: tenant.id, webhookDeliveryId: id },
        { allowPrivate: false },
      ),
    ).rejects.toThrow(/answered refused: 127\.0\.0\.1 is an internal address/);
    // A name is checked at connect time, in the socket's own lookup (no rebinding window).
    const named = expectStatus(await create('http://localhost:9/hook', ['domain.status_changed']), 201);
    await db.prisma.$transaction((tx) => recordEvent(tx, tenant.id, 'domain.status_changed', { probe: 2 }));
    const viaName = await db.prisma.webhookDelivery.findFirstOrThrow({ where: { webhookId: named.id } });
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
    expect(hook.response.status).toBe(201);
  });
});
