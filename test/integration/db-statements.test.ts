import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  binary,
  defineCopyStatement,
  defineStatement,
  inlineParams,
  inTransaction,
  parseBinaryCopy,
  type Tx,
} from '@mailroom/db';
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

// Binary COPY (libs/db binary-copy.ts): bodies come as raw bytes; the values are inlined as
// literals, so hostile strings must stay strings.
const COPY_ECHO = defineCopyStatement<
  { n: number; big: bigint; bytes: Buffer; at: Date; tags: string[]; text: string | null; yes: boolean; id: string },
  [number, Buffer, string[], string | null, string, number[]]
>(
  'test_copy_echo',
  `SELECT $1::int AS n, 9007199254740993::int8 AS big, $2::bytea AS bytes,
     '2026-01-02T03:04:05.678901Z'::timestamptz AS at, $3::text[] AS tags, $4::text AS text,
     (array_length($6::int[], 1) = 3) AS yes, $5::text AS id`,
  {
    n: binary.int,
    big: binary.bigint,
    bytes: binary.bytes,
    at: binary.date,
    tags: binary.textArray,
    text: binary.text,
    yes: binary.bool,
    id: binary.text,
  },
);

describe('defineCopyStatement', () => {
  const bytes = Buffer.from(Array.from({ length: 70_000 }, (_, i) => (i * 7) % 256));
  const hostile = ["it's", 'a\\b', '"q"', 'x}', '{y', 'é ü 中', ''];
  const params = (tags: string[], text: string | null): [number, Buffer, string[], string | null, string, number[]] => [
    -42,
    bytes,
    tags,
    text,
    "'); DROP TABLE stmt_t; --",
    [1, 2, 3],
  ];

  it('reads every column type through binary COPY exactly as Prisma reads the same SQL', async () => {
    const [row] = await COPY_ECHO.run(db.prisma, params(hostile, null));
    expect(row).toEqual({
      n: -42,
      big: 9007199254740993n,
      bytes,
      at: new Date('2026-01-02T03:04:05.678Z'),
      tags: hostile,
      text: null,
      yes: true,
      id: "'); DROP TABLE stmt_t; --",
    });
    // The same text through Prisma (inside a transaction) agrees.
    const viaPrisma = await inTransaction(db.prisma, (tx: Tx) => COPY_ECHO.run(tx, params(hostile, null)));
    expect(viaPrisma).toEqual([row]);
  });

  it('reads many rows and empty arrays, and the connection serves queries afterwards', async () => {
    const MANY = defineCopyStatement<{ i: number; b: Buffer; e: string[] }, [number]>(
      'test_copy_many',
      `SELECT g AS i, decode(repeat('ab', g), 'hex') AS b, '{}'::text[] AS e FROM generate_series(1, $1::int) g`,
      { i: binary.int, b: binary.bytes, e: binary.textArray },
    );
    const rows = await MANY.run(db.prisma, [3000]);
    expect(rows).toHaveLength(3000);
    expect(rows[2999]).toEqual({ i: 3000, b: Buffer.alloc(3000, 0xab), e: [] });
    expect(await PREPARED.run(db.prisma, [])).toBeInstanceOf(Array);
  });

  it('parses a result however it was cut into chunks, values straddling them included', () => {
    const header = Buffer.concat([Buffer.from('PGCOPY\n\xff\r\n\0', 'latin1'), Buffer.alloc(8)]);
    const row = (n: number, b: Buffer) => {
      const out = Buffer.alloc(2 + 4 + 4 + 4 + b.length);
      out.writeInt16BE(2, 0);
      out.writeInt32BE(4, 2);
      out.writeInt32BE(n, 6);
      out.writeInt32BE(b.length, 10);
      b.copy(out, 14);
      return out;
    };
    const body = Buffer.from(Array.from({ length: 1000 }, (_, i) => i % 251));
    const whole = Buffer.concat([
      header,
      row(1, body),
      row(2, Buffer.alloc(0)),
      row(3, body),
      Buffer.from([0xff, 0xff]),
    ]);
    const fields: Array<[string, (v: Buffer) => unknown]> = [
      ['n', binary.int],
      ['b', binary.bytes],
    ];
    const expected = [
      { n: 1, b: body },
      { n: 2, b: Buffer.alloc(0) },
      { n: 3, b: body },
    ];
    for (const size of [1, 3, 7, 64, 999, whole.length]) {
      const chunks: Buffer[] = [];
      for (let at = 0; at < whole.length; at += size) chunks.push(whole.subarray(at, at + size));
      expect(parseBinaryCopy(chunks, fields)).toEqual(expected);
    }
    expect(() => parseBinaryCopy([whole.subarray(0, whole.length - 2)], fields)).toThrow(/ended inside a row/);
  });

  it('passes SQL errors on and leaves the pool usable', async () => {
    const BAD = defineCopyStatement<{ v: number }, [number]>('test_copy_bad', 'SELECT 1 / $1::int AS v', {
      v: binary.int,
    });
    await expect(BAD.run(db.prisma, [0])).rejects.toThrow(/division by zero/);
    for (let i = 0; i < 6; i++) expect(await BAD.run(db.prisma, [1])).toEqual([{ v: 1 }]);
  });

  it('passes on an error that comes after rows were sent, and a notice in the result changes nothing', async () => {
    // 300 rows of 2 KB go out before row 301 divides by zero: the ErrorResponse arrives mid-COPY.
    const LATE = defineCopyStatement<{ b: Buffer }, [number]>(
      'test_copy_late_error',
      `SELECT decode(repeat('cd', 2048 + 0 * (1 / (301 - g))), 'hex') AS b FROM generate_series(1, $1::int) g`,
      { b: binary.bytes },
    );
    await expect(LATE.run(db.prisma, [400])).rejects.toThrow(/division by zero/);
    expect(await LATE.run(db.prisma, [300])).toHaveLength(300);
    // A NoticeResponse per row, interleaved with the CopyData messages.
    await db.prisma.$executeRawUnsafe(
      `CREATE OR REPLACE FUNCTION test_copy_notice(v int) RETURNS int LANGUAGE plpgsql AS
       $$ BEGIN RAISE NOTICE 'row %', v; RETURN v; END $$`,
    );
    const NOTICE = defineCopyStatement<{ v: number }, [number]>(
      'test_copy_notice',
      'SELECT test_copy_notice(g) AS v FROM generate_series(0, $1::int) g',
      { v: binary.int },
    );
    for (let i = 0; i < 4; i++) {
      expect(await NOTICE.run(db.prisma, [i])).toEqual(Array.from({ length: i + 1 }, (_, v) => ({ v })));
    }
  });

  it('writes values as literals that cannot end the string they are in', () => {
    // pg's escapeLiteral writes a backslash-bearing string as ` E'...'` (with a space).
    expect(
      inlineParams(
        'SELECT $1::text, $2::int[], $3::text[], $10',
        ["a'b", [1, -2], ['x"y', 'z\\'], 1].concat(Array(6).fill(0)) as unknown[],
      ),
    ).toBe(`SELECT 'a''b'::text, '{1,-2}'::int[],  E'{"x\\\\"y","z\\\\\\\\"}'::text[], (0)`);
    expect(() => inlineParams('SELECT $1', [Number.NaN])).toThrow(/not finite/);
    expect(() => inlineParams('SELECT $2', [1])).toThrow(/no value/);
  });
});
