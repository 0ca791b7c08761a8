import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineStatement, inTransaction, type Tx } from '@mailroom/db';
import { createTestDatabase, type TestDatabase } from '@test/support/database';

// Named prepared statements (libs/db statements.ts) against real PostgreSQL: they run on the pool
// Prisma uses, are prepared once per connection, and read back as $queryRaw would.

let db: TestDatabase;

beforeAll(async () => {
  db = await createTestDatabase({ migrated: false });
});
afterAll(() => db.drop());

const ECHO = defineStatement<{ n: bigint; bytes: Buffer; at: Date; tags: string[]; app: string }, [Buffer, string[]]>(
  'test_echo',
  `SELECT 9007199254740993::int8 AS n, $1::bytea AS bytes, '2026-01-02T03:04:05.678Z'::timestamptz AS at,
     $2::text[] AS tags, current_setting('application_name') AS app`,
);
const PREPARED = defineStatement<{ name: string }, []>(
  'test_prepared',
  `SELECT name FROM pg_prepared_statements WHERE name LIKE 'mailroom_test_%' ORDER BY name`,
);
const BACKEND = defineStatement<{ pid: number; connections: string }, []>(
  'test_backend',
  `SELECT pg_backend_pid() AS pid,
     (SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()
        AND application_name = 'mailroom-test')::text AS connections`,
);

describe('defineStatement', () => {
  it('runs on the root client with binary bytes, bigint, dates and arrays as $queryRaw reads them', async () => {
    const bytes = Buffer.from([0, 1, 2, 0xff, 0x0d, 0x0a, 0x5c]);
    const [row] = await ECHO.run(db.prisma, [bytes, ['a', 'b,c']]);
    expect(row).toEqual({
      n: 9007199254740993n,
      bytes,
      at: new Date('2026-01-02T03:04:05.678Z'),
      tags: ['a', 'b,c'],
      app: 'mailroom-test',
    });
  });

  it('keeps the statement prepared on the connection that ran it', async () => {
    // The pool has up to 4 connections: run often enough that whichever answers has run both.
    for (let i = 0; i < 8; i++) await PREPARED.run(db.prisma, []);
    const names = new Set<string>();
    for (let i = 0; i < 8; i++) for (const r of await PREPARED.run(db.prisma, [])) names.add(r.name);
    expect(names).toContain('mailroom_test_prepared');
  });

  it("shares Prisma's pool: never more connections than its size", async () => {
    const rows = await Promise.all([
      ...Array.from({ length: 12 }, () => BACKEND.run(db.prisma, [])),
      ...Array.from({ length: 4 }, () => db.prisma.$queryRaw`SELECT pg_sleep(0.05)::text`.then(() => null)),
    ]);
    const pids = new Set(rows.flatMap((r) => (r ? r.map((x) => x.pid) : [])));
    expect(pids.size).toBeLessThanOrEqual(4);
    const [after] = await BACKEND.run(db.prisma, []);
    expect(Number(after!.connections)).toBeLessThanOrEqual(3);
  });

  it('runs inside a transaction, unprepared, and rolls back with it', async () => {
    await db.prisma.$executeRawUnsafe('CREATE TABLE IF NOT EXISTS stmt_t (v int)');
    const INSERT = defineStatement<{ v: number }, [number]>(
      'test_insert',
      'INSERT INTO stmt_t (v) VALUES ($1::int) RETURNING v',
    );
    await expect(
      inTransaction(db.prisma, async (tx: Tx) => {
        expect(await INSERT.run(tx, [7])).toEqual([{ v: 7 }]);
        throw new Error('undo');
      }),
    ).rejects.toThrow('undo');
    expect(await db.prisma.$queryRawUnsafe('SELECT count(*)::int AS n FROM stmt_t')).toEqual([{ n: 0 }]);
  });

  it('refuses a second text under a name, and names that are not plain', () => {
    expect(() => defineStatement('test_echo', 'SELECT 1')).toThrow(/defined twice/);
    expect(() => defineStatement('Bad-Name', 'SELECT 1')).toThrow(/lower-case/);
  });
});
