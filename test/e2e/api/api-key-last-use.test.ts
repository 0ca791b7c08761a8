import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { CredentialCache } from '@mailroom/api/auth/credential-cache';
import { CredentialService } from '@mailroom/api/auth/credential.service';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, getFrom, Session, startApi, type TestApi } from '@test/support/api';

// An API key's last use (when, from where) is written at most once a minute per address, in the
// background, on the row the CredentialCache shares with later requests. A trigger in the test
// database counts every write attempt in a sequence (not rolled back with a failed write) and can
// make a write fail, or hold the row and then fail, as a database in trouble would. The checks
// need the cached row to stay the same object through each test, so each test also checks that
// the cache was not emptied (which would reload the row from the database) while it ran.
describe('API key last use', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  let path: string;
  let emptied = 0;

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
    // Count the cache's emptyings (a write's own, and every credentials notification).
    const cache = api.app.get(CredentialCache);
    const clear = cache.clear.bind(cache);
    cache.clear = () => {
      emptied += 1;
      clear();
    };
    for (let i = 0; i < 100 && !cache.active; i++) await sleep(50);
    expect(cache.active).toBe(true);
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
  afterEach(() => {
    // A test that stopped early may leave the service's process-wide pause after a failed
    // write; the next test must not start inside it (a private field: test hygiene only).
    (api.app.get(CredentialService) as unknown as { lastUseWritesPausedUntil: number }).lastUseWritesPausedUntil = 0;
  });

  const failWrites = (ip: string, pauseMs = 0) =>
    db.prisma.$executeRawUnsafe(`INSERT INTO test_last_use_mode VALUES ($1, $2)`, ip, pauseMs);
  const attempts = async () => {
    const [row] = await db.prisma.$queryRawUnsafe<{ n: bigint }[]>(
      `SELECT CASE WHEN is_called THEN last_value ELSE 0 END AS n FROM test_last_use_attempts`,
    );
    return Number(row!.n);
  };
  const bearer = (k: string) => ({ authorization: `Bearer ${k}` });
  const read = async (key: string, from: string) =>
    expect((await getFrom(api, path, from, bearer(key))).status).toBe(200);
  /** New keys, made before a test's reads: their creation empties the cache (its own write, then a notification each). */
  const newKeys = async (n: number) => {
    const keys: { id: string; key: string }[] = [];
    const before = emptied;
    for (let i = 0; i < n; i++) {
      const created = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/api-keys', {
        params: { path: { tenantId: tenant.id } },
        body: { name: `office ${i}`, scopes: ['tenants:read'] },
      });
      keys.push(expectStatus(created, 201));
    }
    // Wait for the notifications to arrive, and then for quiet, so that the first read loads
    // the row that later reads share.
    for (let i = 0; i < 60 && emptied < before + 2 * n; i++) await sleep(50);
    for (let seen = -1; seen !== emptied;) {
      seen = emptied;
      await sleep(200);
    }
    return keys;
  };
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
  /** Reads with `key` every 250 ms until a write is attempted (up to `ms`); the time it took. */
  const readUntilAttempt = async (key: string, from: string, ms: number) => {
    const start = Date.now();
    const prior = await attempts();
    while (Date.now() - start < ms) {
      await read(key, from);
      if ((await attemptsReach(prior + 1, 100)) > prior) return Date.now() - start;
      await sleep(250);
    }
    return null;
  };

  it('is written once a minute per address, not at every request, and at once from a new address', async () => {
    const [key] = await newKeys(1);
    const emptiedBefore = emptied;
    const start = await attempts();
    await read(key!.key, '127.0.0.5');
    expect(await attemptsReach(start + 1)).toBe(start + 1);
    expect(await stored(key!.id)).toMatchObject({ lastUsedIp: '127.0.0.5', lastUsedAt: expect.any(Date) });

    for (let i = 0; i < 3; i++) await read(key!.key, '127.0.0.5');
    expect(await attemptsReach(start + 2, 1_000)).toBe(start + 1);

    await read(key!.key, '127.0.0.6');
    expect(await attemptsReach(start + 2)).toBe(start + 2);
    expect(await stored(key!.id)).toMatchObject({ lastUsedIp: '127.0.0.6' });
    expect(emptied).toBe(emptiedBefore);
  });

  it('after a failed write, answers the request, tries again after a pause rather than at every request, and then records it', async () => {
    const [key] = await newKeys(1);
    const emptiedBefore = emptied;
    await failWrites('*');
    const start = await attempts();
    const firstAt = Date.now();
    await read(key!.key, '127.0.0.5');
    expect(await attemptsReach(start + 1)).toBe(start + 1);
    expect(await stored(key!.id)).toEqual({ lastUsedAt: null, lastUsedIp: null });

    for (let i = 0; i < 3; i++) await read(key!.key, '127.0.0.5');
    expect(await attemptsReach(start + 2, 1_000)).toBe(start + 1);

    // Writes work again; the next is tried once the 10 s pause (from the failure, which came
    // after firstAt) is over: the row no longer claims the failed use.
    await db.prisma.$executeRawUnsafe(`DELETE FROM test_last_use_mode`);
    const waited = await readUntilAttempt(key!.key, '127.0.0.5', 15_000);
    expect(waited).not.toBeNull();
    expect(Date.now() - firstAt).toBeGreaterThanOrEqual(10_000);
    expect(await attempts()).toBe(start + 2);
    expect(await stored(key!.id)).toMatchObject({ lastUsedIp: '127.0.0.5', lastUsedAt: expect.any(Date) });
    expect(emptied).toBe(emptiedBefore);
  });

  it('keeps a newer use when an older write fails after it', async () => {
    // `key` is watched; `probe`, never used, shows when the pause after the failure is over.
    const [key, probe] = await newKeys(2);
    const emptiedBefore = emptied;
    // The write for 127.0.0.5 holds the row for 2 s, then fails; the one for 127.0.0.6 waits for
    // the row and succeeds.
    await failWrites('127.0.0.5', 2_000);
    const start = await attempts();
    await read(key!.key, '127.0.0.5');
    await read(key!.key, '127.0.0.6');
    expect(await attemptsReach(start + 2)).toBe(start + 2);
    for (let i = 0; i < 60 && (await stored(key!.id)).lastUsedIp === null; i++) await sleep(50);
    expect(await stored(key!.id)).toMatchObject({ lastUsedIp: '127.0.0.6', lastUsedAt: expect.any(Date) });

    // Once the probe's first use is written, the pause is over. A request from 127.0.0.6 is then
    // not due (its use was recorded under a minute ago): the shared row still says so, the older
    // write's failure did not undo it.
    expect(await readUntilAttempt(probe!.key, '127.0.0.7', 15_000)).not.toBeNull();
    const before = await attempts();
    await read(key!.key, '127.0.0.6');
    expect(await attemptsReach(before + 1, 1_000)).toBe(before);
    expect(emptied).toBe(emptiedBefore);
  });
});
