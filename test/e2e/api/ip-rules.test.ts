import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import type { ApiSchema } from '@mailroom/api-client';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;

describe('IP access rules', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Tenant;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const at = () => ({ params: { path: { tenantId: tenant.id } } });
  const one = (ipRuleId: string) => ({ params: { path: { tenantId: tenant.id, ipRuleId } } });
  const create = (caller: Client, body: ApiSchema<'CreateIpRuleDto'>) =>
    caller.typed.POST('/v1/tenants/{tenantId}/ip-rules', { ...at(), body });
  const check = (caller: Client, body: ApiSchema<'CheckIpDto'>) =>
    caller.typed.POST('/v1/tenants/{tenantId}/ip-rules/check', { ...at(), body });
  const list = async (query: {
    service?: 'imap' | 'pop3' | 'submission';
    action?: 'allow' | 'deny';
    limit?: number;
    cursor?: string;
  }) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/ip-rules', {
        params: { path: { tenantId: tenant.id }, query },
      }),
      200,
    );

  it('creates, reads, updates and deletes rules, normalizing CIDRs, with audit entries', async () => {
    const v4 = expectStatus(
      await create(tenant.admin, { cidr: '203.0.113.0/24', action: 'allow', service: 'imap', description: 'office' }),
      201,
    );
    expect(v4).toMatchObject({
      cidr: '203.0.113.0/24',
      action: 'allow',
      service: 'imap',
      priority: 100,
      description: 'office',
    });
    const v6 = await create(tenant.admin, { cidr: '2001:DB8:0:0::/32', action: 'deny', service: 'pop3', priority: 10 });
    expect(v6.data?.cidr).toBe('2001:db8::/32');
    const host = expectStatus(
      await create(tenant.admin, { cidr: '198.51.100.7', action: 'deny', service: 'submission' }),
      201,
    );
    expect(host.cidr).toBe('198.51.100.7/32');
    const path = '/v1/tenants/{tenantId}/ip-rules/{ipRuleId}';
    expect(expectStatus(await tenant.viewer.typed.GET(path, one(v4.id)), 200).cidr).toBe('203.0.113.0/24');
    const upd = await tenant.admin.typed.PATCH(path, {
      ...one(v4.id),
      body: { priority: 5, cidr: '::ffff:203.0.113.0/120' },
    });
    expect(expectStatus(upd, 200)).toMatchObject({ priority: 5, cidr: '203.0.113.0/24' });
    expectStatus(await tenant.admin.typed.DELETE(path, one(host.id)), 204);
    expectProblem(await tenant.admin.typed.GET(path, one(host.id)), 404);
    const audit = await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
      params: { path: { tenantId: tenant.id }, query: { action: 'ip_rule.*' } },
    });
    expect(expectStatus(audit, 200).items.map((e) => e.action)).toEqual([
      'ip_rule.delete',
      'ip_rule.update',
      'ip_rule.create',
      'ip_rule.create',
      'ip_rule.create',
    ]);
  });

  it('lists by priority with service and action filters, paginated', async () => {
    expect((await list({})).items.map((r) => r.priority)).toEqual([5, 10]);
    expect((await list({ service: 'imap' })).items.map((r) => r.service)).toEqual(['imap']);
    expect((await list({ action: 'deny' })).items.map((r) => r.cidr)).toEqual(['2001:db8::/32']);
    const page = await list({ limit: 1 });
    const next = await list({ limit: 1, cursor: String(page.nextCursor) });
    expect(next.items[0]?.priority).toBe(10);
  });

  it('names invalid fields and refuses a second rule for the same network and service', async () => {
    // Raw: an action and a service that do not exist, which the typed client would not send.
    const bad = await tenant.admin.post(`/v1/tenants/${tenant.id}/ip-rules`, {
      cidr: '10.0.0.1/8',
      action: 'block',
      service: 'smtp',
    });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['action', 'service']);
    const hostBits = await create(tenant.admin, { cidr: '10.0.0.1/8', action: 'deny', service: 'imap' });
    expect(hostBits.error?.errors).toEqual([
      {
        field: 'cidr',
        message: 'host bits are set: use 10.0.0.0/8 for the network or 10.0.0.1/32 for the one address',
      },
    ]);
    const octal = await create(tenant.admin, { cidr: '010.0.0.0/8', action: 'deny', service: 'imap' });
    expect(octal.error?.errors?.[0]?.field).toBe('cidr');
    const twin = await create(tenant.admin, { cidr: '203.0.113.0/24', action: 'deny', service: 'imap' });
    expect(expectProblem(twin, 409).detail).toMatch(/^A imap rule for 203\.0\.113\.0\/24 already exists/);
  });

  it('checks an address the way the servers will', async () => {
    const inside = expectStatus(await check(tenant.viewer, { service: 'imap', ip: '203.0.113.9' }), 200);
    expect(inside).toMatchObject({ allowed: true, rule: { cidr: '203.0.113.0/24' } });
    const outside = await check(tenant.admin, { service: 'imap', ip: '192.0.2.1' });
    expect(outside.data).toEqual({
      allowed: false,
      reason: 'no rule matched and imap has allow rules, so other addresses are denied',
      rule: null,
    });
    const pop = await check(tenant.admin, { service: 'pop3', ip: '2001:db8::1' });
    expect(pop.data?.allowed).toBe(false);
    const open = await check(tenant.admin, { service: 'submission', ip: '192.0.2.1' });
    expect(open.data).toMatchObject({ allowed: true, rule: null });
  });

  it('keeps viewers to reading', async () => {
    const res = await create(tenant.viewer, { cidr: '192.0.2.0/24', action: 'deny', service: 'imap' });
    expect(expectProblem(res, 403).detail).toBe('This credential lacks the scope ip-rules:write.');
  });
});
