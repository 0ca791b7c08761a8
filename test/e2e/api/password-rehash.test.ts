import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { PASSWORD_HASH_OPTIONS } from '@mailroom/core';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectProblem, expectStatus, PASSWORD, Session, startApi, type TestApi } from '@test/support/api';

const PHC_PARAMS = /^\$argon2id\$v=19\$([^$]+)\$/;
const params = (hash: string) =>
  Object.fromEntries((PHC_PARAMS.exec(hash)?.[1] ?? '').split(',').map((kv) => kv.split('=')));

describe('password hash parameters', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const login = (email: string, password: string) =>
    sut.anonymous().typed.POST('/v1/auth/login', { body: { email, password } });
  const storedHash = async (email: string) =>
    (await db.prisma.adminUser.findUniqueOrThrow({ where: { email } })).passwordHash;

  it('writes new admin passwords as argon2id with m=19456, t=2, p=1', async () => {
    const { adminEmail } = await sut.newReseller();
    expect(params(await storedHash(adminEmail))).toEqual({ m: '19456', t: '2', p: '1' });
  });

  it('still accepts a hash made with argon2 defaults and rehashes it at the first good login only', async () => {
    const { adminEmail } = await sut.newReseller();
    const old = await argon2.hash(PASSWORD, { type: argon2.argon2id });
    await db.prisma.adminUser.update({ where: { email: adminEmail }, data: { passwordHash: old } });
    expect(params(old)).toEqual({ m: '65536', t: '3', p: '4' });

    expectProblem(await login(adminEmail, 'not the password'), 401);
    expect(await storedHash(adminEmail)).toBe(old);

    expectStatus(await login(adminEmail, PASSWORD), 200);
    const rehashed = await storedHash(adminEmail);
    expect(params(rehashed)).toEqual({ m: '19456', t: '2', p: '1' });
    expect(argon2.needsRehash(rehashed, PASSWORD_HASH_OPTIONS)).toBe(false);

    expectStatus(await login(adminEmail, PASSWORD), 200);
    expect(await storedHash(adminEmail)).toBe(rehashed);
    expectProblem(await login(adminEmail, 'not the password'), 401);
  });
});
