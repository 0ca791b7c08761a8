import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Client, PASSWORD, Session, startApi, type TestApi } from '@test/support/api';

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

  it('logs in with email and password and returns a 15-minute JWT and a refresh token', async () => {
    const res = await anon().post('/v1/auth/login', { email: email.toUpperCase(), password: PASSWORD });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ tokenType: 'Bearer', expiresIn: 900 });
    expect(res.body.refreshToken).toMatch(/^rt_/);
    const me = await sut.withToken(res.body.accessToken).get('/v1/auth/me');
    expect(me.status).toBe(200);
    expect(me.body).toMatchObject({ kind: 'user', label: email, role: 'reseller_admin' });
  });

  it('answers a wrong password and an unknown email with the same 401 problem', async () => {
    const wrong = await anon().post('/v1/auth/login', { email, password: 'not the password' });
    const unknown = await anon().post('/v1/auth/login', { email: 'nobody@example.com', password: 'not the password' });
    expect(wrong.status).toBe(401);
    expect(unknown.status).toBe(401);
    expect(wrong.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    const strip = ({ correlationId: _c, ...rest }: Record<string, unknown>) => rest;
    expect(strip(wrong.body)).toEqual(strip(unknown.body));
    expect(wrong.body.detail).toBe('Invalid email or password.');
  });

  it('locks an account after repeated failures (429 with Retry-After), even for the right password, and likewise for unknown emails', async () => {
    const reseller = await sut.newReseller();
    for (let i = 0; i < 3; i++) {
      expect((await anon().post('/v1/auth/login', { email: reseller.adminEmail, password: 'wrong' })).status).toBe(401);
      expect((await anon().post('/v1/auth/login', { email: 'ghost@example.com', password: 'wrong' })).status).toBe(401);
    }
    const locked = await anon().post('/v1/auth/login', { email: reseller.adminEmail, password: PASSWORD });
    expect(locked.status).toBe(429);
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0);
    const ghost = await anon().post('/v1/auth/login', { email: 'ghost@example.com', password: 'wrong' });
    expect(ghost.status).toBe(429);
    expect(ghost.body.detail).toBe(locked.body.detail);
    // The database keeps the lock too, so a Redis restart does not lift it.
    const user = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: reseller.adminEmail } });
    expect(user.lockedUntil!.getTime()).toBeGreaterThan(Date.now());
  });

  it('rotates refresh tokens, and a reused one revokes the whole login', async () => {
    const login = await anon().post('/v1/auth/login', { email, password: PASSWORD });
    const first = login.body.refreshToken as string;
    const rotated = await anon().post('/v1/auth/refresh', { refreshToken: first });
    expect(rotated.status).toBe(200);
    expect(rotated.body.refreshToken).not.toBe(first);
    const second = rotated.body.refreshToken as string;

    const reuse = await anon().post('/v1/auth/refresh', { refreshToken: first });
    expect(reuse.status).toBe(401);
    // The thief's reuse also kills the legitimate descendant.
    expect((await anon().post('/v1/auth/refresh', { refreshToken: second })).status).toBe(401);
    const row = await db.prisma.refreshToken.findUniqueOrThrow({
      where: { tokenHash: createHash('sha256').update(second).digest('hex') },
    });
    const family = await db.prisma.refreshToken.findMany({ where: { familyId: row.familyId } });
    expect(family).toHaveLength(2);
    expect(family.every((t) => t.revokedAt !== null)).toBe(true);
  });

  it('lets only one of two concurrent refreshes with the same token succeed', async () => {
    const login = await anon().post('/v1/auth/login', { email, password: PASSWORD });
    const token = login.body.refreshToken as string;
    const results = await Promise.all([1, 2].map(() => anon().post('/v1/auth/refresh', { refreshToken: token })));
    expect(results.map((r) => r.status).sort()).toEqual([200, 401]);
  });

  it('logs out: the refresh token stops working', async () => {
    const login = await anon().post('/v1/auth/login', { email, password: PASSWORD });
    expect((await anon().post('/v1/auth/logout', { refreshToken: login.body.refreshToken })).status).toBe(204);
    expect((await anon().post('/v1/auth/refresh', { refreshToken: login.body.refreshToken })).status).toBe(401);
  });

  it('refuses missing, malformed and forged credentials with 401 problems', async () => {
    const none = await anon().get('/v1/auth/me');
    expect(none.status).toBe(401);
    expect(none.body.detail).toMatch(/^Authentication required/);
    expect((await sut.withToken('garbage').get('/v1/auth/me')).status).toBe(401);
    const login = await anon().post('/v1/auth/login', { email, password: PASSWORD });
    const [h, p] = (login.body.accessToken as string).split('.');
    const forged = `${h}.${p}.${Buffer.from('not the signature').toString('base64url')}`;
    expect((await sut.withToken(forged).get('/v1/auth/me')).status).toBe(401);
    expect((await sut.withToken('mr_aaaaaaaaaaaa_' + 'b'.repeat(43)).get('/v1/auth/me')).status).toBe(401);
  });

  it('refuses a disabled account at once, even with a valid access token', async () => {
    const reseller = await sut.newReseller();
    await db.prisma.adminUser.update({ where: { email: reseller.adminEmail }, data: { disabled: true } });
    expect((await reseller.admin.get('/v1/auth/me')).status).toBe(401);
  });

  it('rejects unknown fields and malformed JSON with problem details', async () => {
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
