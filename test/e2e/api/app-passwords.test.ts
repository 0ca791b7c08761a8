import { randomBytes } from 'node:crypto';
import { connectRedis } from '@test/support/redis-cluster';
import type { RedisClient } from '@mailroom/queue';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessAuthenticator,
  AccessDenied,
  accessOptions,
  LoginThrottle,
  loginThrottleOptions,
  RedisCounters,
  type AccessService,
} from '@mailroom/access';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectProblem, expectStatus, Session, startApi, type TestApi } from '@test/support/api';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;
const GOOD = 'tangerine-orbit-42';
const SHOWN = /^[a-z]{4} [a-z]{4} [a-z]{4} [a-z]{4}$/;

describe('app passwords and POP3 settings', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Tenant;
  let other: Tenant;
  let redis: RedisClient;
  let access: AccessAuthenticator;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    const reseller = await sut.newReseller();
    tenant = await sut.newTenant(reseller);
    other = await sut.newTenant(await sut.newReseller());
    await addDomain(db, tenant.id, 'apps.example');
    // The authenticator IMAP and POP3 use, with the API's MASTER_KEY: what the API issues, it accepts.
    redis = connectRedis();
    const logger = pino({ level: 'silent' });
    const counters = new RedisCounters(redis, api.config.QUEUE_PREFIX, logger);
    access = new AccessAuthenticator(
      db.prisma,
      new LoginThrottle(counters, loginThrottleOptions(api.config, { delayStepMs: 0, maxDelayMs: 0 })),
      accessOptions(api.config, logger),
    );
  });
  afterAll(async () => {
    redis?.disconnect();
    await api?.close();
    await db?.drop();
  });

  async function newMailbox(localPart = `u${randomBytes(3).toString('hex')}`) {
    return expectStatus(
      await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
        params: { path: { tenantId: tenant.id } },
        body: { localPart, domain: 'apps.example', password: GOOD },
      }),
      201,
    );
  }
  const create = (mailboxId: string, protocols: AccessService[], name = 'Thunderbird', caller = tenant.admin) =>
    caller.typed.POST('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords', {
      params: { path: { tenantId: tenant.id, mailboxId } },
      body: { name, protocols },
    });
  const list = async (mailboxId: string) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords', {
        params: { path: { tenantId: tenant.id, mailboxId } },
      }),
      200,
    ).items;
  const revoke = (mailboxId: string, appPasswordId: string, caller = tenant.admin, tenantId = tenant.id) =>
    caller.typed.DELETE('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords/{appPasswordId}', {
      params: { path: { tenantId, mailboxId, appPasswordId } },
    });
  const login = (address: string, password: string, service: AccessService) =>
    access.authenticate({ username: address, authzid: '', password, ip: '198.51.100.7', service }).then(
      (u) => u.via,
      (err: unknown) => (err instanceof AccessDenied ? err.reason : Promise.reject(err)),
    );
  const auditLog = async (action: string) =>
    expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action } },
      }),
      200,
    ).items;
  const authVersion = async (mailboxId: string) =>
    (await db.prisma.mailbox.findFirstOrThrow({ where: { id: mailboxId } })).authVersion;

  it('creates an app password shown once, stores only its hash, and lists it without the secret', async () => {
    const mailbox = await newMailbox();
    const created = expectStatus(await create(mailbox.id, ['imap', 'smtp']), 201);
    expect(created).toMatchObject({ mailboxId: mailbox.id, name: 'Thunderbird', protocols: ['imap', 'smtp'] });
    expect(created.password).toMatch(SHOWN);
    const row = await db.prisma.appPassword.findFirstOrThrow({ where: { id: created.id } });
    expect(row.secretHash).toMatch(/^[0-9a-f]{64}$/);
    expect(JSON.stringify(row)).not.toContain(created.password.replace(/ /g, ''));
    const listed = await list(mailbox.id);
    expect(listed).toEqual([
      {
        id: created.id,
        mailboxId: mailbox.id,
        name: 'Thunderbird',
        protocols: ['imap', 'smtp'],
        createdAt: created.createdAt,
        lastUsedAt: null,
        lastUsedIp: null,
      },
    ]);
    // It logs in over its protocols only, and the use shows in the list.
    expect(await login(mailbox.address, created.password, 'imap')).toBe('app-password');
    expect(await login(mailbox.address, created.password, 'pop3')).toBe('bad-credentials');
    const [used] = await list(mailbox.id);
    expect(used).toMatchObject({ lastUsedIp: '198.51.100.7' });
    expect(used!.lastUsedAt).not.toBeNull();
    const [audit] = await auditLog('app_password.create');
    expect(audit).toMatchObject({ targetType: 'app_password', targetId: created.id });
    expect(JSON.stringify(audit)).not.toContain(created.password);
  });

  it('refuses bad bodies with problem+json naming the field', async () => {
    const mailbox = await newMailbox();
    const empty = expectProblem(await create(mailbox.id, []), 422);
    expect(empty.errors).toEqual([{ field: 'protocols', message: 'give at least one of imap, pop3, smtp' }]);
    const path = `/v1/tenants/${tenant.id}/mailboxes/${mailbox.id}/app-passwords`;
    const ftp = await tenant.admin.post(path, { name: 'x', protocols: ['ftp'] });
    expect(ftp.status).toBe(422);
    expect(ftp.body.errors[0].field).toBe('protocols.0');
    const twice = await tenant.admin.post(path, { name: 'x', protocols: ['imap', 'imap'] });
    expect(twice.body.errors).toEqual([{ field: 'protocols', message: 'must not repeat a protocol' }]);
    const noName = await tenant.admin.post(path, { name: ' ', protocols: ['imap'] });
    expect(noName.body.errors).toEqual([{ field: 'name', message: 'must not be empty' }]);
  });

  it('revokes an app password: refused at once, gone from the list, audited, auth_version moved', async () => {
    const mailbox = await newMailbox();
    const keep = expectStatus(await create(mailbox.id, ['pop3'], 'laptop'), 201);
    const gone = expectStatus(await create(mailbox.id, ['pop3'], 'old phone'), 201);
    expect(await login(mailbox.address, gone.password, 'pop3')).toBe('app-password');
    const version = await authVersion(mailbox.id);
    expect((await revoke(mailbox.id, gone.id)).response.status).toBe(204);
    expect(await login(mailbox.address, gone.password, 'pop3')).toBe('bad-credentials');
    expect(await login(mailbox.address, keep.password, 'pop3')).toBe('app-password');
    expect((await list(mailbox.id)).map((p) => p.id)).toEqual([keep.id]);
    expect(await authVersion(mailbox.id)).toBeGreaterThan(version);
    expect((await revoke(mailbox.id, gone.id)).response.status).toBe(204);
    expect((await auditLog('app_password.revoke')).filter((a) => a.targetId === gone.id)).toHaveLength(1);
    expectProblem(await revoke(mailbox.id, '00000000-0000-4000-8000-00000000abcd'), 404);
  });

  it('signs out everywhere: every app password revoked, auth_version moved, the password still works', async () => {
    const mailbox = await newMailbox();
    const a = expectStatus(await create(mailbox.id, ['imap']), 201);
    const b = expectStatus(await create(mailbox.id, ['smtp']), 201);
    expect(await login(mailbox.address, GOOD, 'imap')).toBe('password');
    const version = await authVersion(mailbox.id);
    const res = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/sign-out-everywhere', {
      params: { path: { tenantId: tenant.id, mailboxId: mailbox.id } },
    });
    expect(res.response.status).toBe(204);
    expect(await list(mailbox.id)).toEqual([]);
    expect(await login(mailbox.address, a.password, 'imap')).toBe('bad-credentials');
    expect(await login(mailbox.address, b.password, 'smtp')).toBe('bad-credentials');
    expect(await authVersion(mailbox.id)).toBeGreaterThan(version);
    expect(await login(mailbox.address, GOOD, 'imap')).toBe('password');
    const [audit] = await auditLog('mailbox.sign_out_everywhere');
    expect(audit).toMatchObject({ targetType: 'mailbox', targetId: mailbox.id, after: { revokedCount: 2 } });
  });

  it('ends live sessions when the tenant is suspended or the domain deleted, not when a DNS check degrades it', async () => {
    const reseller = await sut.newReseller();
    const own = await sut.newTenant(reseller);
    const domain = await addDomain(db, own.id, `t${randomBytes(3).toString('hex')}.example`);
    const mailbox = expectStatus(
      await own.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
        params: { path: { tenantId: own.id } },
        body: { localPart: 'live', domain: domain.name, password: GOOD },
      }),
      201,
    );
    const session = () =>
      access.authenticate({
        username: mailbox.address,
        authzid: '',
        password: GOOD,
        ip: '198.51.100.7',
        service: 'imap',
      });
    // isCurrent is what a live IMAP or POP3 session re-checks; a moved auth_version also NOTIFYs it.
    const first = await session();
    await db.prisma.domain.update({
      where: { tenantId_id: { tenantId: own.id, id: domain.id } },
      data: { status: 'degraded' },
    });
    expect(await access.isCurrent(first)).toBe(true);
    const suspend = await reseller.admin.post(`/v1/tenants/${own.id}/suspend`, { reason: 'unpaid' });
    expect(suspend.status).toBe(200);
    expect(await access.isCurrent(first)).toBe(false);
    expect(await login(mailbox.address, GOOD, 'imap')).toBe('suspended');
    expect((await reseller.admin.post(`/v1/tenants/${own.id}/resume`)).status).toBe(200);
    const second = await session();
    expect((await own.admin.delete(`/v1/tenants/${own.id}/domains/${domain.id}`)).status).toBe(202);
    expect(await access.isCurrent(second)).toBe(false);
  });

  it('refuses an app password row without protocols at the database', async () => {
    const mailbox = await newMailbox();
    await expect(
      db.prisma.$executeRaw`INSERT INTO app_passwords (tenant_id, mailbox_id, name, secret_hash)
        VALUES (${tenant.id}::uuid, ${mailbox.id}::uuid, 'cli', ${randomBytes(16).toString('hex')})`,
    ).rejects.toThrow(/app_passwords_protocols_check/);
  });

  it('shows and changes the POP3 settings, checking folder names against the mailbox', async () => {
    const mailbox = await newMailbox();
    expect(mailbox.pop3).toEqual({ folders: ['INBOX'], markRead: false, deleteMode: 'delete' });
    const patch = (pop3: Record<string, unknown>) =>
      tenant.admin.patch(`/v1/tenants/${tenant.id}/mailboxes/${mailbox.id}`, { pop3 });
    const changed = await tenant.admin.typed.PATCH('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
      params: { path: { tenantId: tenant.id, mailboxId: mailbox.id } },
      body: { pop3: { folders: ['Junk', 'inbox', 'Junk'], markRead: true, deleteMode: 'keep' } },
    });
    expect(expectStatus(changed, 200).pop3).toEqual({ folders: ['INBOX', 'Junk'], markRead: true, deleteMode: 'keep' });
    const unknown = await patch({ folders: ['INBOX', 'Newsletters'] });
    expect(unknown.status).toBe(422);
    expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    expect(unknown.body.errors).toEqual([
      { field: 'pop3.folders.1', message: 'Newsletters is not a folder of this mailbox' },
    ]);
    const mode = await patch({ deleteMode: 'purge' });
    expect(mode.status).toBe(422);
    expect(mode.body.errors[0].field).toBe('pop3.deleteMode');
    expect((await patch({ folders: [] })).body.errors[0].field).toBe('pop3.folders');
    const got = await tenant.admin.get(`/v1/tenants/${tenant.id}/mailboxes/${mailbox.id}`);
    expect(got.body.pop3).toEqual({ folders: ['INBOX', 'Junk'], markRead: true, deleteMode: 'keep' });
  });

  it('keeps other tenants out and lets a viewer read but not write', async () => {
    const mailbox = await newMailbox();
    const mine = expectStatus(await create(mailbox.id, ['imap']), 201);
    const base = `/v1/tenants/${tenant.id}/mailboxes/${mailbox.id}`;
    expect((await other.admin.get(`${base}/app-passwords`)).status).toBe(404);
    expect((await other.admin.post(`${base}/app-passwords`, { name: 'x', protocols: ['imap'] })).status).toBe(404);
    expect((await other.admin.delete(`${base}/app-passwords/${mine.id}`)).status).toBe(404);
    expect((await other.admin.post(`${base}/sign-out-everywhere`)).status).toBe(404);
    // Another tenant's path with this tenant's ids finds nothing either.
    const crossed = `/v1/tenants/${other.id}/mailboxes/${mailbox.id}/app-passwords/${mine.id}`;
    expect((await other.admin.delete(crossed)).status).toBe(404);
    expect((await db.prisma.appPassword.findFirstOrThrow({ where: { id: mine.id } })).revokedAt).toBeNull();
    expect((await tenant.viewer.get(`${base}/app-passwords`)).status).toBe(200);
    expect((await create(mailbox.id, ['imap'], 'viewer', tenant.viewer)).response.status).toBe(403);
    expect((await tenant.viewer.post(`${base}/sign-out-everywhere`)).status).toBe(403);
  });
});
