import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { MailStore, TenantUsage } from '@mailroom/mailstore';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { seedTenant } from '@test/support/worker-fixtures';

// SORT and THREAD of the mail store over a 10,000-message folder written before the sort keys
// existed (rows without them), against real PostgreSQL.

const COUNT = 10_000;
// Message g has subject "Re: Item k" with k = g * 7919 mod COUNT (a permutation: 7919 is prime),
// size g mod 97, and replies to g - 1 unless g is the first of a run of ten.
const itemOf = (g: number) => (g * 7919) % COUNT;
const sizeOf = (g: number) => g % 97;

let db: TestDatabase;
let sut: MailStore;
let t: Awaited<ReturnType<typeof seedTenant>>;
let inbox: string;

beforeAll(async () => {
  db = await createTestDatabase();
  sut = new MailStore(db.prisma, { usage: new TenantUsage() });
  t = await seedTenant(db.prisma, 1);
  inbox = t.boxes[0]!.inbox;
  await db.prisma.$executeRaw`
    INSERT INTO message_blobs (tenant_id, sha256, size, bytes)
    SELECT ${t.tenantId}::uuid, 'sort-' || g, 0, convert_to(
      'From: u' || (g % 13) || E'@x.test\r\nSubject: Re: Item ' || lpad(((g * 7919) % ${COUNT})::text, 5, '0')
      || E'\r\nMessage-ID: <m' || g || E'@x.test>\r\n'
      || CASE WHEN g % 10 = 1 THEN '' ELSE 'In-Reply-To: <m' || (g - 1) || E'@x.test>\r\n' END
      || E'\r\nbody\r\n', 'UTF8')
    FROM generate_series(1, ${COUNT}) g`;
  await db.prisma.$executeRaw`
    INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, size, flags, envelope_from,
      envelope_to, message_id_header, received_at)
    SELECT ${t.tenantId}::uuid, ${t.boxes[0]!.id}::uuid, ${inbox}::uuid, 'sort-' || g, g, g % 97, '{}', '', '',
      '<m' || g || '@x.test>', timestamptz '2026-01-01' + make_interval(secs => g)
    FROM generate_series(1, ${COUNT}) g`;
}, 60_000);
afterAll(() => db.drop());

const uids = Array.from({ length: COUNT }, (_, i) => i + 1);

describe('mail store SORT and THREAD over 10,000 messages', () => {
  it('fills the missing keys from the headers and orders by base subject in SQL', async () => {
    const sorted = await sut.sort(t.tenantId, inbox, { op: 'all' }, [{ key: 'subject', reverse: false }]);
    expect(sorted).toEqual([...uids].sort((a, b) => itemOf(a) - itemOf(b)));
    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId, sortSubject: null } })).toBe(0);
    const row = await db.prisma.message.findFirstOrThrow({ where: { tenantId: t.tenantId, uid: 12 } });
    expect(row).toMatchObject({ sortSubject: `ITEM ${String(itemOf(12)).padStart(5, '0')}`, subjectIsReply: true });
  }, 60_000);

  it('breaks ties of REVERSE SIZE in ascending sequence order and applies the search criteria', async () => {
    const sorted = await sut.sort(t.tenantId, inbox, { op: 'size', cmp: 'smaller', bytes: 50 }, [
      { key: 'size', reverse: true },
    ]);
    const expected = uids.filter((g) => sizeOf(g) < 50).sort((a, b) => sizeOf(b) - sizeOf(a) || a - b);
    expect(sorted).toEqual(expected);
  });

  it('reads the threading fields of every matching message', async () => {
    const rows = await sut.threadMessages(t.tenantId, inbox, { op: 'uid', uids: [[1, 20]] });
    expect(rows).toHaveLength(20);
    expect(rows[1]).toMatchObject({ uid: 2, messageId: 'm2@x.test', references: ['m1@x.test'], isReply: true });
    expect(rows[10]).toMatchObject({ uid: 11, references: [] });
  });
});
