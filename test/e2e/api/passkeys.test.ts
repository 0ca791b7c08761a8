import { webauthnRelyingParty } from '@mailroom/config';
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
import { SoftwareAuthenticator } from '@test/support/webauthn-authenticator';

// Passkeys (WebAuthn) as a second factor, driven by a software authenticator (a P-256 key in the
// test) against the real API, PostgreSQL and Redis.
describe('passkeys', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let origin: string;
  let rpId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db, {
      LOGIN_MAX_FAILURES: '3',
      LOGIN_LOCK_MINUTES: '1',
      PUBLIC_API_URL: 'https://mail.example.net',
    });
    ({
      rpId,
      origins: [origin = ''],
    } = webauthnRelyingParty(api.config));
    sut = await Session.create(api, db);
    reseller = await sut.newReseller();
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const login = (email: string) =>
    sut.anonymous().typed.POST('/v1/auth/login', { body: { email, password: PASSWORD } });
  const loginOptions = (mfaToken: string) =>
    sut.anonymous().typed.POST('/v1/auth/login/mfa/passkey/options', { body: { mfaToken } });
  const complete = (mfaToken: string, credential: ReturnType<SoftwareAuthenticator['get']>) =>
    sut.anonymous().typed.POST('/v1/auth/login/mfa/passkey', { body: { mfaToken, credential } });
  const auditActions = async (tenant: { id: string; admin: Client }) => {
    const page = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'mfa.*' } },
      }),
      200,
    );
    return page.items.map((e) => e.action);
  };

  /** Registers a new passkey for the caller; answers the authenticator and the stored passkey. */
  async function register(caller: Client, name = 'Laptop') {
    const authenticator = new SoftwareAuthenticator(origin, rpId);
    const options = expectStatus(await caller.typed.POST('/v1/auth/mfa/passkeys/registration/options'), 200);
    const registered = expectStatus(
      await caller.typed.POST('/v1/auth/mfa/passkeys', { body: { name, credential: authenticator.create(options) } }),
      201,
    );
    return { authenticator, ...registered };
  }

  /** Password, then the passkey's options: the challenge and the WebAuthn options for it. */
  async function passwordThenOptions(email: string) {
    const { mfaToken, methods } = expectLogin(await login(email), 'mfa_required');
    const options = expectStatus(await loginOptions(mfaToken), 200);
    return { mfaToken, methods, options };
  }

  it('registers a passkey for the relying party of the configuration, lists it and audits it', async () => {
    const tenant = await sut.newTenant(reseller);
    const options = expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/passkeys/registration/options'), 200);
    expect(options.rp).toEqual({ id: 'mail.example.net', name: 'Mailroom' });
    expect(options.user.name).toBe(tenant.adminEmail);
    expect(options.attestation).toBe('none');
    expect(options.excludeCredentials).toEqual([]);

    const authenticator = new SoftwareAuthenticator(origin, rpId);
    const credential = authenticator.create(options);
    const done = expectStatus(
      await tenant.admin.typed.POST('/v1/auth/mfa/passkeys', { body: { name: 'YubiKey', credential } }),
      201,
    );
    expect(done.tokens).toBeNull();
    expect(done.passkey).toMatchObject({ name: 'YubiKey', transports: ['internal'], lastUsedAt: null });

    // The challenge was spent: the same answer again finds nothing waiting.
    expectProblem(await tenant.admin.typed.POST('/v1/auth/mfa/passkeys', { body: { name: 'Again', credential } }), 409);

    expect(expectStatus(await tenant.admin.typed.GET('/v1/auth/mfa'), 200)).toMatchObject({
      totpEnabled: false,
      passkeyCount: 1,
    });
    const list = expectStatus(await tenant.admin.typed.GET('/v1/auth/mfa/passkeys'), 200);
    expect(list.items.map((p) => p.name)).toEqual(['YubiKey']);
    const row = await db.prisma.adminPasskey.findFirstOrThrow({ where: { id: done.passkey.id } });
    expect(row.credentialId).toBe(authenticator.id);
    expect(row.counter).toBe(0n);
    expect((await auditActions(tenant))[0]).toBe('mfa.passkey.add');

    // Asked again, the options exclude the registered passkey.
    const next = expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/passkeys/registration/options'), 200);
    expect(next.excludeCredentials?.map((c) => c.id)).toEqual([authenticator.id]);
  });

  it('refuses an attestation signed for another origin (a phishing site)', async () => {
    const tenant = await sut.newTenant(reseller);
    const options = expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/passkeys/registration/options'), 200);
    const credential = new SoftwareAuthenticator(origin, rpId).create(options, 'https://mail.example.net.evil.test');
    const refused = expectProblem(
      await tenant.admin.typed.POST('/v1/auth/mfa/passkeys', { body: { name: 'Phished', credential } }),
      422,
    );
    expect(refused.errors?.[0]?.field).toBe('credential');
    expect(await db.prisma.adminPasskey.count({ where: { user: { email: tenant.adminEmail } } })).toBe(0);
  });

  it('signs in with the password and then the passkey, as with a code: tokens, counter and last use kept', async () => {
    const tenant = await sut.newTenant(reseller);
    const { authenticator, passkey } = await register(tenant.admin);

    const { mfaToken, methods, options } = await passwordThenOptions(tenant.adminEmail);
    expect(methods).toEqual(['passkey']);
    expect(options.rpId).toBe(rpId);
    expect(options.allowCredentials?.map((c) => c.id)).toEqual([authenticator.id]);

    const tokens = expectStatus(await complete(mfaToken, authenticator.get(options)), 200);
    expect(tokens.refreshToken).toMatch(/^rt_/);
    const me = expectStatus(await sut.withToken(tokens.accessToken).typed.GET('/v1/auth/me'), 200);
    expect(me.label).toBe(tenant.adminEmail);

    const listed = expectStatus(await tenant.admin.typed.GET('/v1/auth/mfa/passkeys'), 200).items[0]!;
    expect(listed.id).toBe(passkey.id);
    expect(Date.now() - Date.parse(listed.lastUsedAt!)).toBeLessThan(60_000);
    const row = await db.prisma.adminPasskey.findUniqueOrThrow({ where: { id: passkey.id } });
    expect(row.counter).toBe(1n);
    expect((await auditActions(tenant))[0]).toBe('mfa.passkey.use');
    const user = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: tenant.adminEmail } });
    expect(user.lastLoginAt).not.toBeNull();
  });

  it('refuses a replayed challenge: an assertion is good once', async () => {
    const tenant = await sut.newTenant(reseller);
    const { authenticator } = await register(tenant.admin);
    const { mfaToken, options } = await passwordThenOptions(tenant.adminEmail);
    const assertion = authenticator.get(options);
    expectStatus(await complete(mfaToken, assertion), 200);
    const replay = expectProblem(await complete(mfaToken, assertion), 401);
    expect(replay.detail).toBe('The code is wrong, expired or already used.');

    // Nor does an assertion for an earlier challenge pass once new options replaced it.
    const later = await passwordThenOptions(tenant.adminEmail);
    const stale = authenticator.get(options);
    expectStatus(await loginOptions(later.mfaToken), 200);
    expectProblem(await complete(later.mfaToken, stale), 401);
  });

  it('refuses a counter that did not grow (a cloned authenticator)', async () => {
    const tenant = await sut.newTenant(reseller);
    const { authenticator, passkey } = await register(tenant.admin);
    const first = await passwordThenOptions(tenant.adminEmail);
    expectStatus(await complete(first.mfaToken, authenticator.get(first.options, { counter: 5 })), 200);
    const second = await passwordThenOptions(tenant.adminEmail);
    expectProblem(await complete(second.mfaToken, authenticator.get(second.options, { counter: 5 })), 401);
    const row = await db.prisma.adminPasskey.findUniqueOrThrow({ where: { id: passkey.id } });
    expect(row.counter).toBe(5n);
  });

  it('counts wrong signatures toward the same lockout as wrong passwords and codes', async () => {
    const tenant = await sut.newTenant(reseller);
    const { authenticator } = await register(tenant.admin);
    const { mfaToken } = expectLogin(await login(tenant.adminEmail), 'mfa_required');
    for (let i = 0; i < 3; i++) {
      const options = expectStatus(await loginOptions(mfaToken), 200);
      expectProblem(await complete(mfaToken, authenticator.get(options, { tamper: true })), 401);
    }
    const options = expectStatus(await loginOptions(mfaToken), 200);
    const locked = await complete(mfaToken, authenticator.get(options));
    expectProblem(locked, 429);
    expect(Number(locked.response.headers.get('retry-after'))).toBeGreaterThan(0);
    expectProblem(await login(tenant.adminEmail), 429);
    const user = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: tenant.adminEmail } });
    expect(user.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
  });

  it('gives no passkey options to an admin without a passkey or for a forged challenge', async () => {
    const tenant = await sut.newTenant(reseller);
    expectLogin(await login(tenant.adminEmail), 'authenticated');
    expectProblem(await loginOptions('not-a-challenge'), 401);
    // A TOTP-only sign-in has no passkey to offer.
    const { Secret, TOTP } = await import('otpauth');
    const start = expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/totp/start'), 200);
    const code = new TOTP({ secret: Secret.fromBase32(start.secret) }).generate();
    expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/totp/confirm', { body: { code } }), 200);
    const { mfaToken, methods } = expectLogin(await login(tenant.adminEmail), 'mfa_required');
    expect(methods).toEqual(['totp', 'recovery_code']);
    expectProblem(await loginOptions(mfaToken), 401);
    // With a passkey too, both are offered.
    await register(tenant.admin);
    expect(expectLogin(await login(tenant.adminEmail), 'mfa_required').methods).toEqual([
      'totp',
      'recovery_code',
      'passkey',
    ]);
  });

  it('satisfies a require-2FA policy: enrolment with a passkey gives a session, the last one cannot be removed', async () => {
    const tenant = await sut.newTenant(reseller);
    expectStatus(
      await tenant.admin.typed.PATCH('/v1/tenants/{tenantId}/security-policy', {
        params: { path: { tenantId: tenant.id } },
        body: { requireMfa: true },
      }),
      200,
    );
    const gate = expectLogin(await login(tenant.adminEmail), 'mfa_enrolment_required');
    const enrolling = sut.withToken(gate.enrolmentToken);
    const { authenticator, passkey, tokens } = await register(enrolling, 'Phone');
    expect(tokens).not.toBeNull();
    const full = sut.withToken(tokens!.accessToken);
    expectStatus(
      await full.typed.GET('/v1/tenants/{tenantId}/mailboxes', { params: { path: { tenantId: tenant.id } } }),
      200,
    );
    // Its refresh token keeps working: the policy is met.
    expectStatus(
      await sut.anonymous().typed.POST('/v1/auth/refresh', { body: { refreshToken: tokens!.refreshToken } }),
      200,
    );

    // The next sign-in asks for the passkey instead of enrolment.
    const { mfaToken, options } = await passwordThenOptions(tenant.adminEmail);
    expectStatus(await complete(mfaToken, authenticator.get(options)), 200);

    // The last second factor stays while the policy requires one; with a second passkey it goes.
    const refused = expectProblem(
      await full.typed.DELETE('/v1/auth/mfa/passkeys/{passkeyId}', { params: { path: { passkeyId: passkey.id } } }),
      403,
    );
    expect(refused.detail).toMatch(/requires two-factor sign-in/);
    await register(full, 'Spare key');
    const removed = await full.typed.DELETE('/v1/auth/mfa/passkeys/{passkeyId}', {
      params: { path: { passkeyId: passkey.id } },
    });
    expect(removed.response.status).toBe(204);
    const left = expectStatus(await full.typed.GET('/v1/auth/mfa/passkeys'), 200);
    expect(left.items.map((p) => p.name)).toEqual(['Spare key']);
    expect((await auditActions(tenant)).slice(0, 2)).toEqual(['mfa.passkey.remove', 'mfa.passkey.add']);
  });

  it('lets TOTP be turned off under a policy when a passkey remains', async () => {
    const tenant = await sut.newTenant(reseller);
    const { Secret, TOTP } = await import('otpauth');
    const start = expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/totp/start'), 200);
    const code = new TOTP({ secret: Secret.fromBase32(start.secret) }).generate();
    expectStatus(await tenant.admin.typed.POST('/v1/auth/mfa/totp/confirm', { body: { code } }), 200);
    expectStatus(
      await tenant.admin.typed.PATCH('/v1/tenants/{tenantId}/security-policy', {
        params: { path: { tenantId: tenant.id } },
        body: { requireMfa: true },
      }),
      200,
    );
    const disable = () => tenant.admin.typed.POST('/v1/auth/mfa/totp/disable', { body: { password: PASSWORD } });
    expectProblem(await disable(), 403);
    await register(tenant.admin);
    expect((await disable()).response.status).toBe(204);
    expect(expectLogin(await login(tenant.adminEmail), 'mfa_required').methods).toEqual(['passkey']);
  });

  it('renames and removes only my own passkeys', async () => {
    const mine = await sut.newTenant(reseller);
    const theirs = await sut.newTenant(reseller);
    const { passkey } = await register(theirs.admin);
    const path = { params: { path: { passkeyId: passkey.id } } };
    expectProblem(
      await mine.admin.typed.PATCH('/v1/auth/mfa/passkeys/{passkeyId}', { ...path, body: { name: 'x' } }),
      404,
    );
    expectProblem(await mine.admin.typed.DELETE('/v1/auth/mfa/passkeys/{passkeyId}', path), 404);
    expectProblem(await theirs.key.typed.GET('/v1/auth/mfa/passkeys'), 403);
    const renamed = expectStatus(
      await theirs.admin.typed.PATCH('/v1/auth/mfa/passkeys/{passkeyId}', { ...path, body: { name: '  Desk key ' } }),
      200,
    );
    expect(renamed.name).toBe('Desk key');
    expect(await db.prisma.adminPasskey.count({ where: { id: passkey.id } })).toBe(1);
  });
});
