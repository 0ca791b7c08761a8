import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, getFrom, Session, startApi, type TestApi } from '@test/support/api';

// An API key's last use (when, from where) is written at most once a minute per address, in the
// background, on the row the CredentialCache shares with later requests. A trigger in the test
// database counts every write attempt in a sequence (not rolled back with a failed write) and can
// make a write fail, or fail after a pause, as a database under trouble would.
describe('API key last use', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  let path: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    await db.prisma.$executeRawUnsafe(`CREATE SEQUENCE test_last_use_attempts`);
    await db.prisma.$executeRawUnsafe(`CREATE TABLE test_last_use_mode (fail_ip text, pause_ms int NOT NULL)`);
    await db.prisma.$executeRawUnsafe(`
      CREATE FUNCTION test_last_use() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      DECLARE m test_last_use_mode;
      BEGIN
        PERFORM nextval('test_last_use_attempts');
        SELECT * INTO m FROM test_last_use_mode LIMIT 1;
        IF m.fail_ip IS NOT NULL AND (m.fail_ip = '*' OR m.fail_ip = NEW.last_used_ip) THEN
          PERFORM pg_sleep(m.pause_ms / 1000.0);
          RAISE EXCEPTION 'test: last-use write refused';
        END IF;
        RETURN NEW;
      END $$`);
    await db.prisma.$executeRawUnsafe(
      `CREATE TRIGGER test_last_use BEFORE UPDATE OF last_used_at ON api_keys
       FOR EACH ROW EXECUTE FUNCTION test_last_use()`,
    );
    api = await startApi(db);
    sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller());
    path = `/v1/tenants/${tenant.id}`;
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });
  beforeEach(async () => {
    await db.prisma.$executeRawUnsafe(`DELETE FROM test_last_use_mode`);
  });

  const failWrites = (ip: string, pauseMs = 0) =>
    db.prisma.$executeRawUnsafe(`INSERT INTO test_last_use_mode VALUES ($1, $2)`, ip, pauseMs);
  const attempts = async () => {
    const [row] = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM test_last_use_attempts`,
    );
    return Number(row!.n);
  };
  const newKey = async () => {
    const created = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/api-keys', {
      params: { path: { tenantId: tenant.id } },
      body: { name: 'office', scopes: ['tenants:read'] },
    });
    const { id, key } = expectStatus(created, 201);
    // The creation's notification empties every API process's cache; once it has arrived, the
    // key's first use loads the row that later reads share (and that the checks below watch).
    await sleep(500);
    return { id, read: async (from: string) => expect((await getFrom(api, path, from, bearer(key))).status).toBe(200) };
  };
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
  const stored = (id: string) =>
    db.prisma.apiKey.findUniqueOrThrow({ where: { id }, select: { lastUsedAt: true, lastUsedIp: true } });
  /**
   * Waits until the attempt count reaches `n` (up to `ms`; a write in the background lands within
   * milliseconds here, so 1 s is ample where it must not come), then a little more, to see it go
   * no further.
   */
  const attemptsReach = async (n: number, ms = 5_000) => {
    for (const end = Date.now() + ms; Date.now() < end && (await attempts()) < n;) await sleep(50);
    await sleep(300);
    return attempts();
  };

  it('is written once a minute per address, not at every request, and at once from a new address', async () => {
    const key = await newKey();
    const start = await attempts();
    await key.read('127.0.0.5');
    expect(await attemptsReach(start + 1)).toBe(start + 1);
    expect(await stored(key.id)).toMatchObject({ lastUsedIp: '127.0.0.5', lastUsedAt: expect.any(Date) });

    for (let i = 0; i < 3; i++) await key.read('127.0.0.5');
    expect(await attemptsReach(start + 2, 1_000)).toBe(start + 1);

    await key.read('127.0.0.6');
    expect(await attemptsReach(start + 2)).toBe(start + 2);
    expect(await stored(key.id)).toMatchObject({ lastUsedIp: '127.0.0.6' });
  });

  it('after a failed write, answers the request, tries again after a pause rather than at every request, and then records it', async () => {
    const key = await newKey();
    await failWrites('*');
    const start = await attempts();
    const failedAt = Date.now();
    await key.read('127.0.0.5');
    expect(await attemptsReach(start + 1)).toBe(start + 1);
    expect(await stored(key.id)).toEqual({ lastUsedAt: null, lastUsedIp: null });

    for (let i = 0; i < 3; i++) await key.read('127.0.0.5');
    expect(await attemptsReach(start + 2, 1_000)).toBe(start + 1);

    await db.prisma.$executeRawUnsafe(`DELETE FROM test_last_use_mode`);
    await sleep(Math.max(0, failedAt + 10_500 - Date.now()));
    await key.read('127.0.0.5');
    expect(await attemptsReach(start + 2)).toBe(start + 2);
    expect(await stored(key.id)).toMatchObject({ lastUsedIp: '127.0.0.5', lastUsedAt: expect.any(Date) });
  });

  it('keeps a newer use when an older write fails after it', async () => {
    const key = await newKey();
    // The write for 127.0.0.5 holds the row for 600 ms, then fails; the one for 127.0.0.6 waits
    // for the row and succeeds.
    await failWrites('127.0.0.5', 600);
    const start = await attempts();
    const firstAt = Date.now();
    await key.read('127.0.0.5');
    await key.read('127.0.0.6');
    expect(await attemptsReach(start + 2)).toBe(start + 2);
    // The failure came 600 ms after the first write began, and paused last-use writes for 10 s.
    const failedAt = Math.max(Date.now(), firstAt + 1_000);
    for (let i = 0; i < 40 && (await stored(key.id)).lastUsedIp === null; i++) await sleep(50);
    expect(await stored(key.id)).toMatchObject({ lastUsedIp: '127.0.0.6', lastUsedAt: expect.any(Date) });

    // After the pause that failure started, a request from 127.0.0.6 is not due (its use was
    // recorded under a minute ago): the shared row still says so, the failure did not undo it.
    await sleep(Math.max(0, failedAt + 11_000 - Date.now()));
    await key.read('127.0.0.6');
    expect(await attemptsReach(start + 3, 1_000)).toBe(start + 2);
  });
});
