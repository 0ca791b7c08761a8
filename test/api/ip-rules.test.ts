import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '../support/database';
import { Session, startApi, type TestApi } from '../support/api';

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

  const path = () => `/v1/tenants/${tenant.id}/ip-rules`;

  it('creates, reads, updates and deletes rules, normalizing CIDRs, with audit entries', async () => {
    const v4 = await tenant.admin.post(path(), {
      cidr: '203.0.113.0/24',
      action: 'allow',
      service: 'imap',
      description: 'office',
    });
    expect(v4.status).toBe(201);
    expect(v4.body).toMatchObject({
      cidr: '203.0.113.0/24',
      action: 'allow',
      service: 'imap',
      priority: 100,
      description: 'office',
    });
    const v6 = await tenant.admin.post(path(), {
      cidr: '2001:DB8:0:0::/32',
      action: 'deny',
      service: 'pop3',
      priority: 10,
    });
    expect(v6.body.cidr).toBe('2001:db8::/32');
    const host = await tenant.admin.post(path(), { cidr: '198.51.100.7', action: 'deny', service: 'submission' });
    expect(host.body.cidr).toBe('198.51.100.7/32');
    expect((await tenant.viewer.get(`${path()}/${v4.body.id}`)).body.cidr).toBe('203.0.113.0/24');
    const upd = await tenant.admin.patch(`${path()}/${v4.body.id}`, { priority: 5, cidr: '::ffff:203.0.113.0/120' });
    expect(upd.status).toBe(200);
    expect(upd.body).toMatchObject({ priority: 5, cidr: '203.0.113.0/24' });
    expect((await tenant.admin.delete(`${path()}/${host.body.id}`)).status).toBe(204);
    expect((await tenant.admin.get(`${path()}/${host.body.id}`)).status).toBe(404);
    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=ip_rule.*`);
    expect(audit.body.items.map((e: { action: string }) => e.action)).toEqual([
      'ip_rule.delete',
      'ip_rule.update',
      'ip_rule.create',
      'ip_rule.create',
      'ip_rule.create',
    ]);
  });

  it('lists by priority with service and action filters, paginated', async () => {
    const all = await tenant.admin.get(path());
    expect(all.body.items.map((r: { priority: number }) => r.priority)).toEqual([5, 10]);
    const imap = await tenant.admin.get(`${path()}?service=imap`);
    expect(imap.body.items.map((r: { service: string }) => r.service)).toEqual(['imap']);
    const deny = await tenant.admin.get(`${path()}?action=deny`);
    expect(deny.body.items.map((r: { cidr: string }) => r.cidr)).toEqual(['2001:db8::/32']);
    const page = await tenant.admin.get(`${path()}?limit=1`);
    const next = await tenant.admin.get(`${path()}?limit=1&cursor=${page.body.nextCursor}`);
    expect(next.body.items[0].priority).toBe(10);
  });

  it('names invalid fields and refuses a second rule for the same network and service', async () => {
    const bad = await tenant.admin.post(path(), { cidr: '10.0.0.1/8', action: 'block', service: 'smtp' });
    expect(bad.status).toBe(422);
    expect(bad.body.errors.map((e: { field: string }) => e.field).sort()).toEqual(['action', 'service']);
    const hostBits = await tenant.admin.post(path(), { cidr: '10.0.0.1/8', action: 'deny', service: 'imap' });
    expect(hostBits.body.errors).toEqual([
      {
        field: 'cidr',
        message: 'host bits are set: use 10.0.0.0/8 for the network or 10.0.0.1/32 for the one address',
      },
    ]);
    const octal = await tenant.admin.post(path(), { cidr: '010.0.0.0/8', action: 'deny', service: 'imap' });
    expect(octal.body.errors[0].field).toBe('cidr');
    const twin = await tenant.admin.post(path(), { cidr: '203.0.113.0/24', action: 'deny', service: 'imap' });
    expect(twin.status).toBe(409);
    expect(twin.body.detail).toMatch(/^A imap rule for 203\.0\.113\.0\/24 already exists/);
  });

  it('checks an address the way the servers will', async () => {
    const inside = await tenant.viewer.post(`${path()}/check`, { service: 'imap', ip: '203.0.113.9' });
    expect(inside.status).toBe(200);
    expect(inside.body).toMatchObject({ allowed: true, rule: { cidr: '203.0.113.0/24' } });
    const outside = await tenant.admin.post(`${path()}/check`, { service: 'imap', ip: '192.0.2.1' });
    expect(outside.body).toEqual({
      allowed: false,
      reason: 'no rule matched and imap has allow rules, so other addresses are denied',
      rule: null,
    });
    const pop = await tenant.admin.post(`${path()}/check`, { service: 'pop3', ip: '2001:db8::1' });
    expect(pop.body.allowed).toBe(false);
    const open = await tenant.admin.post(`${path()}/check`, { service: 'submission', ip: '192.0.2.1' });
    expect(open.body).toMatchObject({ allowed: true, rule: null });
  });

  it('keeps viewers to reading', async () => {
    const res = await tenant.viewer.post(path(), { cidr: '192.0.2.0/24', action: 'deny', service: 'imap' });
    expect(res.status).toBe(403);
    expect(res.body.detail).toBe('This credential lacks the scope ip-rules:write.');
  });
});
