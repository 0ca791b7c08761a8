import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProblemDetails } from '@mailroom/api-client';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import {
  Client,
  expectLogin,
  expectProblem,
  expectStatus,
  PASSWORD,
  Session,
  startApi,
  type TestApi,
} from '@test/support/api';

describe('authentication', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let email: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db, { LOGIN_MAX_FAILURES: '3', LOGIN_LOCK_MINUTES: '1' });
    sut = await Session.create(api, db);
    email = (await sut.newReseller()).adminEmail;
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const anon = () => sut.anonymous();
  const login = (body: { email: string; password: string }) => anon().typed.POST('/v1/auth/login', { body });
  const refresh = (refreshToken: string) => anon().typed.POST('/v1/auth/refresh', { body: { refreshToken } });
  const me = (caller: Client) => caller.typed.GET('/v1/auth/me');

  it('logs in with email and password and returns a 15-minute JWT and a refresh token', async () => {
    const res = expectLogin(await login({ email: email.toUpperCase(), password: PASSWORD }), 'authenticated');
    expect(res).toMatchObject({ status: 'authenticated', tokenType: 'Bearer', expiresIn: 900 });
    expect(res.refreshToken).toMatch(/^rt_/);
    const who = expectStatus(await me(sut.withToken(res.accessToken)), 200);
    expect(who).toMatchObject({ kind: 'user', label: email, role: 'reseller_admin' });
  });

  it('answers a wrong password and an unknown email with the same 401 problem', async () => {
    const wrong = expectProblem(await login({ email, password: 'not the password' }), 401);
    const unknown = expectProblem(await login({ email: 'nobody@example.com', password: 'not the password' }), 401);
    const strip = ({ correlationId: _c, ...rest }: ProblemDetails) => rest;
    expect(strip(wrong)).toEqual(strip(unknown));
    expect(wrong.detail).toBe('Invalid email or password.');
  });

  it('locks an account after repeated failures (429 with Retry-After), even for the right password, and likewise for unknown emails', async () => {
    const reseller = await sut.newReseller();
    for (let i = 0; i < 3; i++) {
      expectProblem(await login({ email: reseller.adminEmail, password: 'wrong' }), 401);
      expectProblem(await login({ email: 'ghost@example.com', password: 'wrong' }), 401);
    }
    const locked = await login({ email: reseller.adminEmail, password: PASSWORD });
    const lockedProblem = expectProblem(locked, 429);
    expect(Number(locked.response.headers.get('retry-after'))).toBeGreaterThan(0);
    const ghost = expectProblem(await login({ email: 'ghost@example.com', password: 'wrong' }), 429);
    expect(ghost.detail).toBe(lockedProblem.detail);
    // The database keeps the lock too, so a Redis restart does not lift it.
    const user = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: reseller.adminEmail } });
    expect(user.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
  });

  it('rotates refresh tokens, and a reused one revokes the whole login', async () => {
    const first = expectLogin(await login({ email, password: PASSWORD }), 'authenticated').refreshToken;
    const rotated = expectStatus(await refresh(first), 200);
    expect(rotated.refreshToken).not.toBe(first);
    const second = rotated.refreshToken;

    expectProblem(await refresh(first), 401);
    // The thief's reuse also kills the legitimate descendant.
    expectProblem(await refresh(second), 401);
    const row = await db.prisma.refreshToken.findUniqueOrThrow({
      where: { tokenHash: createHash('sha256').update(second).digest('hex') },
    });
    const family = await db.prisma.refreshToken.findMany({ where: { familyId: row.familyId } });
    expect(family).toHaveLength(2);
    expect(family.every((t) => t.revokedAt !== null)).toBe(true);
  });

  it('lets only one of two concurrent refreshes with the same token succeed', async () => {
    const token = expectLogin(await login({ email, password: PASSWORD }), 'authenticated').refreshToken;
    const results = await Promise.all([1, 2].map(() => refresh(token)));
    expect(results.map((r) => r.response.status).sort()).toEqual([200, 401]);
  });

  it('logs out: the refresh token stops working', async () => {
    const { refreshToken } = expectLogin(await login({ email, password: PASSWORD }), 'authenticated');
    expectStatus(await anon().typed.POST('/v1/auth/logout', { body: { refreshToken } }), 204);
    expectProblem(await refresh(refreshToken), 401);
  });

  it('refuses missing, malformed and forged credentials with 401 problems', async () => {
    const none = expectProblem(await me(anon()), 401);
    expect(none.detail).toMatch(/^Authentication required/);
    expectProblem(await me(sut.withToken('garbage')), 401);
    const [h, p] = expectLogin(await login({ email, password: PASSWORD }), 'authenticated').accessToken.split('.');
    const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
    expectProblem(await me(sut.withToken(forged)), 401);
    expectProblem(await me(sut.withToken('mr_aaaaaaaaaaaa_' + 'b'.repeat(43))), 401);
  });

  it('refuses a disabled account at once, even with a valid access token', async () => {
    const reseller = await sut.newReseller();
    await db.prisma.adminUser.update({ where: { email: reseller.adminEmail }, data: { disabled: true } });
    expectProblem(await me(reseller.admin), 401);
  });

  it('rejects unknown fields and malformed JSON with problem details', async () => {
    // Raw: an unknown field and a broken body are outside the contract, which the typed client cannot send.
    const extra = await anon().post('/v1/auth/login', { email, password: PASSWORD, admin: true });
    expect(extra.status).toBe(422);
    expect(extra.body.errors).toEqual([{ field: 'admin', message: 'unknown field: not accepted' }]);
    const broken = await new Client(api).request('POST', '/v1/auth/login', '{"email": ', {
      'content-type': 'application/json',
    });
    expect(broken.status).toBe(400);
    expect(broken.headers.get('content-type')).toMatch(/^application\/problem\+json/);
  });
});
