import { setTimeout as sleep } from 'node:timers/promises';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CredentialCache } from '../../../apps/api/src/auth/credential-cache';
import type { Prisma } from '@mailroom/db';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import {
  expectLogin,
  expectProblem,
  expectStatus,
  PASSWORD,
  Session,
  startApi,
  type Client,
  type TestApi,
} from '@test/support/api';

/**
 * The API's cache of what its guard reads (CredentialCache): reads authenticate from it, writes
 * never do, and every change to a credential, its owners or its tenant empties it through the
 * tables' NOTIFY, whoever makes the change (here: SQL from outside the API process).
 */
describe('API credential cache', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let cache: CredentialCache;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    cache = api.app.get(CredentialCache);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const me = (caller: Client) => caller.typed.GET('/v1/auth/me');
  const readTenant = (caller: Client, tenantId: string) =>
    caller.typed.GET('/v1/tenants/{tenantId}', { params: { path: { tenantId } } });
  const renameTenant = (caller: Client, tenantId: string) =>
    caller.typed.PATCH('/v1/tenants/{tenantId}', { params: { path: { tenantId } }, body: { name: 'Renamed' } });

  /** A change with the tables' triggers off (session_replication_role): no NOTIFY is sent. */
  const withoutNotify = (sql: (tx: Prisma.TransactionClient) => Promise<unknown>) =>
    db.prisma.$transaction(async (tx) => {
      await tx.$executeRaw`SET LOCAL session_replication_role = replica`;
      await sql(tx);
    });

  /** Polls a request until it answers `status` (a notification takes milliseconds to arrive). */
  async function eventually(request: () => Promise<{ response: Response }>, status: number): Promise<number> {
    let last = 0;
    for (let i = 0; i < 40; i += 1) {
      last = (await request()).response.status;
      if (last === status) return last;
      await sleep(50);
    }
    return last;
  }

  it('is listening once the API has started', () => {
    expect(cache.active).toBe(true);
  });

  it('serves reads from memory and checks every write against the database', async () => {
    const reseller = await sut.newReseller();
    const tenant = await sut.newTenant(reseller);
    expectStatus(await readTenant(tenant.admin, tenant.id), 200);
    // Disabled behind the cache's back (no notification): reads still pass, a write is refused.
    await withoutNotify(
      (tx) => tx.$executeRaw`UPDATE admin_users SET disabled = true WHERE email = ${tenant.adminEmail}`,
    );
    expectStatus(await readTenant(tenant.admin, tenant.id), 200);
    expect(expectProblem(await renameTenant(tenant.admin, tenant.id), 401).detail).toBe(
      'This account no longer exists or is disabled.',
    );
    // What that write read replaced the cached copy: the next read is refused too.
    expectProblem(await readTenant(tenant.admin, tenant.id), 401);
  });

  it('forgets a user the moment a change to it commits anywhere (NOTIFY)', async () => {
    const reseller = await sut.newReseller();
    expectStatus(await me(reseller.admin), 200);
    expectStatus(await me(reseller.admin), 200);
    await db.prisma.$executeRaw`UPDATE admin_users SET disabled = true WHERE email = ${reseller.adminEmail}`;
    expect(await eventually(() => me(reseller.admin), 401)).toBe(401);
  });

  it('forgets an API key when it is revoked in SQL, and a tenant when it is suspended', async () => {
    const reseller = await sut.newReseller();
    const tenant = await sut.newTenant(reseller);
    expectStatus(await readTenant(tenant.key, tenant.id), 200);
    await db.prisma.$executeRaw`UPDATE api_keys SET revoked_at = now() WHERE id = ${tenant.keyId}::uuid`;
    expect(await eventually(() => readTenant(tenant.key, tenant.id), 401)).toBe(401);

    const read = expectStatus(await readTenant(tenant.admin, tenant.id), 200);
    expect(read.status).toBe('active');
    await db.prisma.$executeRaw`UPDATE tenants SET status = 'suspended' WHERE id = ${tenant.id}::uuid`;
    let status = '';
    for (let i = 0; i < 40 && status !== 'suspended'; i += 1) {
      status = expectStatus(await readTenant(tenant.admin, tenant.id), 200).status;
      if (status !== 'suspended') await sleep(50);
    }
    expect(status).toBe('suspended');
  });

  it('ends a session signed out from another process', async () => {
    const reseller = await sut.newReseller();
    expectStatus(await me(reseller.admin), 200);
    await db.prisma.$executeRaw`
      UPDATE refresh_tokens SET revoked_at = now()
       WHERE user_id = (SELECT id FROM admin_users WHERE email = ${reseller.adminEmail})`;
    expect(await eventually(() => me(reseller.admin), 401)).toBe(401);
  });

  it('is told when a session ends, not when a sign-in or a refresh rotates its tokens', async () => {
    const reseller = await sut.newReseller();
    const heard: string[] = [];
    const listen = new pg.Client({ connectionString: db.url });
    await listen.connect();
    try {
      listen.on('notification', (msg) => heard.push(msg.payload ?? ''));
      await listen.query('LISTEN mailroom_credentials');
      const anon = sut.anonymous();
      const signedIn = expectLogin(
        await anon.typed.POST('/v1/auth/login', { body: { email: reseller.adminEmail, password: PASSWORD } }),
        'authenticated',
      );
      const rotated = expectStatus(
        await anon.typed.POST('/v1/auth/refresh', { body: { refreshToken: signedIn.refreshToken } }),
        200,
      );
      await sleep(300);
      expect(heard).toEqual([]);
      expectStatus(await anon.typed.POST('/v1/auth/logout', { body: { refreshToken: rotated.refreshToken } }), 204);
      for (let i = 0; i < 40 && heard.length === 0; i += 1) await sleep(25);
      expect(heard).toEqual(['refresh_tokens']);
    } finally {
      await listen.end();
    }
  });

  it('keeps nothing a load read before the cache was emptied', async () => {
    let release: (value: string) => void = () => undefined;
    const slow = cache.get('test slow load', true, () => new Promise<string>((resolve) => (release = resolve)));
    cache.clear();
    release('old');
    expect(await slow).toBe('old');
    expect(await cache.get('test slow load', true, async () => 'new')).toBe('new');
    expect(await cache.get('test slow load', true, async () => 'newer')).toBe('new');
    expect(await cache.get('test slow load', false, async () => 'write')).toBe('write');
  });

  it('serves nothing from memory while its LISTEN connection is down, and empties when it is back', async () => {
    const reseller = await sut.newReseller();
    const tenant = await sut.newTenant(reseller);
    expectStatus(await readTenant(tenant.viewer, tenant.id), 200);
    await db.prisma.$queryRaw`
      SELECT pg_terminate_backend(pid) FROM pg_stat_activity
       WHERE application_name = 'mailroom-api-listen' AND datname = current_database()`;
    for (let i = 0; i < 100 && cache.active; i += 1) await sleep(10);
    expect(cache.active).toBe(false);
    // A change that sends no notification is still seen: nothing is cached while down.
    await withoutNotify(
      (tx) =>
        tx.$executeRaw`UPDATE admin_users SET disabled = true WHERE tenant_id = ${tenant.id}::uuid AND role = 'tenant_viewer'`,
    );
    expectProblem(await readTenant(tenant.viewer, tenant.id), 401);
    for (let i = 0; i < 100 && !cache.active; i += 1) await sleep(50);
    expect(cache.active).toBe(true);
    expectProblem(await readTenant(tenant.viewer, tenant.id), 401);
  });
});
