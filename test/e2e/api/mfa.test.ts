import { createHash } from 'node:crypto';
import { Secret, TOTP } from 'otpauth';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import {
  type Client,
  expectLogin,
  expectProblem,
  expectStatus,
  PASSWORD,
  Session,
  startApi,
  type TestApi,
} from '@test/support/api';

/** The code an authenticator app shows `offset` periods from now (an independent implementation). */
function code(secret: string, offset = 0): string {
  const totp = new TOTP({ secret: Secret.fromBase32(secret), algorithm: 'SHA1', digits: 6, period: 30 });
  return totp.generate({ timestamp: Date.now() + offset * 30_000 });
}

describe('two-factor sign-in', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db, { LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '1' });
    sut = await Session.create(api, db);
    reseller = await sut.newReseller();
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const login = (email: string, password = PASSWORD, userAgent?: string) =>
    sut.anonymous().typed.POST('/v1/auth/login', {
      body: { email, password },
      ...(userAgent ? { headers: { 'user-agent': userAgent } } : {}),
    });
  const second = (mfaToken: string, value: string) =>
    sut.anonymous().typed.POST('/v1/auth/login/mfa', { body: { mfaToken, code: value } });
  const auditActions = async (tenant: { id: string; admin: Client }) => {
    const page = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'mfa.*' } },
      }),
      200,
    );
    return page.items.map((e) => e.action);
  };

  /** A tenant whose admin has enrolled TOTP; the admin client's session predates the enrolment. */
  async function enrolled() {
    const tenant = await sut.newTenant(reseller);
    const start = expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/totp/start'), 200);
    const confirmed = expectStatus(
      await tenant.admin.typed.POST('/v1/auth/mfa/totp/confirm', { body: { code: code(start.secret) } }),
      200,
    );
    return { tenant, secret: start.secret, recoveryCodes: confirmed.recoveryCodes };
  }

  it('enrols TOTP: a secret with its otpauth URI and QR code, on only after a right code, with ten recovery codes', async () => {
    const tenant = await sut.newTenant(reseller);
    const start = expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/totp/start'), 200);
    expect(start.secret).toMatch(/^[A-Z2-7]{32}$/);
    expect(start.otpauthUri).toBe(
      `otpauth://totp/Mailroom:${encodeURIComponent(tenant.adminEmail)}?issuer=Mailroom&secret=${start.secret}&algorithm=SHA1&digits=6&period=30`,
    );
    expect(start.qrSvg).toMatch(/^<svg[^>]*xmlns="http:\/\/www.w3.org\/2000\/svg"[\s\S]*<\/svg>\s*$/);
    expect(expectStatus(await tenant.admin.typed.GET('/v1/auth/mfa'), 200).totpEnabled).toBe(false);

    const wrongCode = code(start.secret) === '000000' ? '111111' : '000000';
    const wrong = expectProblem(
      await tenant.admin.typed.POST('/v1/auth/mfa/totp/confirm', { body: { code: wrongCode } }),
      422,
    );
    expect(wrong.errors?.[0]?.field).toBe('code');

    const confirmed = expectStatus(
      await tenant.admin.typed.POST('/v1/auth/mfa/totp/confirm', { body: { code: code(start.secret) } }),
      200,
    );
    expect(confirmed.recoveryCodes).toHaveLength(10);
    expect(new Set(confirmed.recoveryCodes).size).toBe(10);
    expect(confirmed.recoveryCodes[0]).toMatch(/^[0-9a-z]{4}-[0-9a-z]{4}-[0-9a-z]{4}$/);
    expect(confirmed.tokens).toBeNull();
    expect(expectStatus(await tenant.admin.typed.GET('/v1/auth/mfa'), 200)).toMatchObject({
      totpEnabled: true,
      recoveryCodesRemaining: 10,
      requiredByPolicy: false,
    });

    // At rest: the secret sealed (AES-GCM, MASTER_KEY), the codes only as keyed hashes.
    const user = await db.prisma.adminUser.findUniqueOrThrow({
      where: { email: tenant.adminEmail },
      include: { recoveryCodes: true },
    });
    expect(user.totpSecretEncrypted).toMatch(/^v1\./);
    expect(user.totpSecretEncrypted).not.toContain(start.secret);
    expect(user.recoveryCodes).toHaveLength(10);
    const stored = user.recoveryCodes.map((c) => c.codeHash).join(' ');
    for (const c of confirmed.recoveryCodes) {
      expect(stored).not.toContain(c.replace(/-/g, ''));
      expect(stored).not.toContain(createHash('sha256').update(c.replace(/-/g, '')).digest('hex'));
    }
    expect(await auditActions(tenant)).toEqual(['mfa.totp.enable']);
    // A second enrolment while on is refused.
    expectProblem(await tenant.admin.typed.POST('/v1/auth/mfa/totp/start'), 409);
  });

  it('signs in with the password, then answers mfa_required and gives tokens only for a right code, each code once', async () => {
    const { tenant, secret } = await enrolled();
    const first = expectLogin(await login(tenant.adminEmail), 'mfa_required');
    expect(first).not.toHaveProperty('accessToken');
    expect(first.methods).toEqual(['totp', 'recovery_code']);
    // The challenge is no access token.
    expectProblem(await sut.withToken(first.mfaToken).typed.GET('/v1/auth/me'), 401);

    const next = code(secret, 1); // the enrolment spent this period's code
    const tokens = expectStatus(await second(first.mfaToken, next), 200);
    expect(tokens.refreshToken).toMatch(/^rt_/);
    const me = expectStatus(await sut.withToken(tokens.accessToken).typed.GET('/v1/auth/me'), 200);
    expect(me.label).toBe(tenant.adminEmail);

    // The same code again, even with a new challenge, is refused.
    const again = expectLogin(await login(tenant.adminEmail), 'mfa_required');
    const replay = expectProblem(await second(again.mfaToken, next), 401);
    expect(replay.detail).toBe('The code is wrong, expired or already used.');
  });

  it('counts wrong codes toward the same lockout as wrong passwords', async () => {
    const { tenant, secret } = await enrolled();
    const { mfaToken } = expectLogin(await login(tenant.adminEmail), 'mfa_required');
    const wrong = code(secret, 1) === '123456' ? '654321' : '123456';
    for (let i = 0; i < 3; i++) expectProblem(await second(mfaToken, wrong), 401);
    const locked = await second(mfaToken, code(secret, 1));
    expectProblem(locked, 429);
    expect(Number(locked.response.headers.get('retry-after'))).toBeGreaterThan(0);
    // The password step is locked too, and the database holds the lock.
    expectProblem(await login(tenant.adminEmail), 429);
    const user = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: tenant.adminEmail } });
    expect(user.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
  });

  it('accepts a recovery code once, audits its use, and regenerates the codes with the password', async () => {
    const { tenant, recoveryCodes } = await enrolled();
    const [firstCode, secondCode] = recoveryCodes as [string, string];
    const { mfaToken } = expectLogin(await login(tenant.adminEmail), 'mfa_required');
    const tokens = expectStatus(await second(mfaToken, firstCode.toUpperCase()), 200);
    expectProblem(await second(mfaToken, firstCode), 401);
    const admin = sut.withToken(tokens.accessToken);
    expect(expectStatus(await admin.typed.GET('/v1/auth/mfa'), 200).recoveryCodesRemaining).toBe(9);

    expectProblem(
      await admin.typed.POST('/v1/auth/mfa/recovery-codes', { body: { password: 'not the password' } }),
      422,
    );
    const fresh = expectStatus(
      await admin.typed.POST('/v1/auth/mfa/recovery-codes', { body: { password: PASSWORD } }),
      200,
    );
    expect(fresh.recoveryCodes).toHaveLength(10);
    // Two failures so far (the reused code, the wrong password): a success clears them before the
    // old code is tried, so the lockout (3) stays out of this test.
    const retry = expectLogin(await login(tenant.adminEmail), 'mfa_required');
    expectStatus(await second(retry.mfaToken, fresh.recoveryCodes[0]!), 200);
    expectProblem(await second(retry.mfaToken, secondCode), 401);
    expect(await auditActions(tenant)).toEqual([
      'mfa.recovery_code.use',
      'mfa.recovery_codes.regenerate',
      'mfa.recovery_code.use',
      'mfa.totp.enable',
    ]);
  });

  it('turns TOTP off with a code; the next sign-in needs only the password', async () => {
    const { tenant, secret } = await enrolled();
    expectProblem(await tenant.admin.typed.POST('/v1/auth/mfa/totp/disable', { body: {} }), 422);
    expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/totp/disable', { body: { code: code(secret, 1) } }), 204);
    expectLogin(await login(tenant.adminEmail), 'authenticated');
    const user = await db.prisma.adminUser.findUniqueOrThrow({
      where: { email: tenant.adminEmail },
      include: { recoveryCodes: true },
    });
    expect(user.totpSecretEncrypted).toBeNull();
    expect(user.recoveryCodes).toHaveLength(0);
    expect((await auditActions(tenant))[0]).toBe('mfa.totp.disable');
  });

  it('enforces a tenant policy: admins without 2FA may only enrol, old sessions stop refreshing, API keys are unaffected', async () => {
    const tenant = await sut.newTenant(reseller);
    const before = expectLogin(await login(tenant.adminEmail), 'authenticated');
    const policy = expectStatus(
      await tenant.admin.typed.PATCH('/v1/tenants/{tenantId}/security-policy', {
        params: { path: { tenantId: tenant.id } },
        body: { requireMfa: true },
      }),
      200,
    );
    expect(policy).toEqual({ requireMfa: true, resellerRequiresMfa: false });
    // An API key may not change it, and keeps working under it.
    expectProblem(
      await tenant.key.typed.PATCH('/v1/tenants/{tenantId}/security-policy', {
        params: { path: { tenantId: tenant.id } },
        body: { requireMfa: false },
      }),
      403,
    );
    expectStatus(
      await tenant.key.typed.GET('/v1/tenants/{tenantId}/mailboxes', { params: { path: { tenantId: tenant.id } } }),
      200,
    );
    const refused = expectProblem(
      await sut.anonymous().typed.POST('/v1/auth/refresh', { body: { refreshToken: before.refreshToken } }),
      401,
    );
    expect(refused.detail).toMatch(/requires two-factor sign-in/);

    const gate = expectLogin(await login(tenant.adminEmail), 'mfa_enrolment_required');
    const enrolling = sut.withToken(gate.enrolmentToken);
    const blocked = expectProblem(
      await enrolling.typed.GET('/v1/tenants/{tenantId}/mailboxes', { params: { path: { tenantId: tenant.id } } }),
      403,
    );
    expect(blocked.detail).toMatch(/requires two-factor sign-in: set it up first/);
    expect(expectStatus(await enrolling.typed.GET('/v1/auth/mfa'), 200).requiredByPolicy).toBe(true);
    const start = expectStatus(await enrolling.typed.POST('/v1/auth/mfa/totp/start'), 200);
    const done = expectStatus(
      await enrolling.typed.POST('/v1/auth/mfa/totp/confirm', { body: { code: code(start.secret) } }),
      200,
    );
    expect(done.tokens).not.toBeNull();
    const full = sut.withToken(done.tokens!.accessToken);
    expectStatus(
      await full.typed.GET('/v1/tenants/{tenantId}/mailboxes', { params: { path: { tenantId: tenant.id } } }),
      200,
    );
    // Under the policy 2FA cannot be turned off.
    expectProblem(await full.typed.POST('/v1/auth/mfa/totp/disable', { body: { password: PASSWORD } }), 403);
  });

  it("applies a reseller's policy to its own admins and its tenants' admins", async () => {
    const other = await sut.newReseller();
    const tenant = await sut.newTenant(other);
    expectStatus(
      await other.admin.typed.PATCH('/v1/resellers/{resellerId}/security-policy', {
        params: { path: { resellerId: other.id } },
        body: { requireMfa: true },
      }),
      200,
    );
    // Another reseller cannot see it.
    expectProblem(
      await reseller.admin.typed.GET('/v1/resellers/{resellerId}/security-policy', {
        params: { path: { resellerId: other.id } },
      }),
      404,
    );
    expectLogin(await login(other.adminEmail), 'mfa_enrolment_required');
    expectLogin(await login(tenant.adminEmail), 'mfa_enrolment_required');
    expectLogin(await login(reseller.adminEmail), 'authenticated');
  });

  it('lists my sessions and ends one, or every other one, at once', async () => {
    const tenant = await sut.newTenant(reseller);
    const laptop = expectLogin(await login(tenant.adminEmail, PASSWORD, 'Laptop/1.0'), 'authenticated');
    const phone = expectLogin(await login(tenant.adminEmail, PASSWORD, 'Phone/2.0'), 'authenticated');
    const asLaptop = sut.withToken(laptop.accessToken);
    const asPhone = sut.withToken(phone.accessToken);
    const list = expectStatus(await asLaptop.typed.GET('/v1/auth/sessions'), 200).items;
    // The tenant factory's own login is a third session.
    expect(list).toHaveLength(3);
    const mine = list.find((s) => s.current)!;
    expect(mine).toMatchObject({ userAgent: 'Laptop/1.0', ip: '127.0.0.1' });
    const phoneSession = list.find((s) => s.userAgent === 'Phone/2.0')!;
    expect(phoneSession.current).toBe(false);

    expectStatus(
      await asLaptop.typed.DELETE('/v1/auth/sessions/{sessionId}', {
        params: { path: { sessionId: phoneSession.id } },
      }),
      204,
    );
    expectProblem(await asPhone.typed.GET('/v1/auth/me'), 401);
    expectProblem(
      await sut.anonymous().typed.POST('/v1/auth/refresh', { body: { refreshToken: phone.refreshToken } }),
      401,
    );
    expectProblem(
      await asLaptop.typed.DELETE('/v1/auth/sessions/{sessionId}', {
        params: { path: { sessionId: phoneSession.id } },
      }),
      404,
    );

    const ended = expectStatus(await asLaptop.typed.POST('/v1/auth/sessions/end-others'), 200);
    expect(ended.ended).toBe(1);
    expectProblem(await tenant.admin.typed.GET('/v1/auth/me'), 401);
    const left = expectStatus(await asLaptop.typed.GET('/v1/auth/sessions'), 200).items;
    expect(left.map((s) => s.current)).toEqual([true]);

    const audit = expectStatus(
      await asLaptop.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'session.*' } },
      }),
      200,
    );
    expect(audit.items.map((e) => e.action)).toEqual(['session.end_others', 'session.end']);
  });
});
