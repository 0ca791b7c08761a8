import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { Registry } from 'prom-client';
import type { StreamedBlob } from '@mailroom/db';
import {
  BlobStore,
  blobStore,
  MailStore,
  TenantUsage,
  moveBlobsToObjectStore,
  objectKey,
  queueGeneratedOutbound,
  sweepOrphanObjects,
  useBlobStore,
  type BlobPlace,
  type DeliverRequest,
  type ObjectStore,
} from '@mailroom/mailstore';
import { DeliveryRepository } from '@mailroom/worker/delivery/delivery.repository';
import { runBlobGc } from '@mailroom/worker/maintenance/blob-gc';
import { createMaintenanceMetrics, type MaintenanceContext } from '@mailroom/worker/maintenance/job-run';
import { parsePendingMessages } from '@mailroom/worker/processors/parse.processor';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { rawMessage } from '@test/support/mail-fixtures';
import { startLocalS3, type LocalS3 } from '@test/support/s3';
import { seedTenant } from '@test/support/worker-fixtures';

// Message bodies in either backend (docs/scaling.md section 5): PostgreSQL (BLOB_STORE=db, the
// default) and an S3-compatible server on loopback (s3rver). The same cases run on both; the
// S3-only ones follow (threshold, S3 down, GC order, migration, orphan sweep).

let db: TestDatabase;
let s3: LocalS3;
let ctx: MaintenanceContext;
let t: Awaited<ReturnType<typeof seedTenant>>;

beforeAll(async () => {
  db = await createTestDatabase();
  s3 = await startLocalS3();
  ctx = { prisma: db.prisma, metrics: createMaintenanceMetrics(new Registry()) };
});
afterAll(async () => {
  useBlobStore(new BlobStore());
  await s3?.close();
  await db?.drop();
});
beforeEach(async () => {
  t = await seedTenant(db.prisma, 2);
});

const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const header = {
  messageId: null,
  subject: 'Hi',
  fromAddress: 'a@x.test',
  fromName: null,
  toAddresses: [],
  sentAt: null,
  sortKeys: null,
};

/** A message of about `size` bytes, random (so each is a new blob), with CRLF lines. */
function body(size: number, subject = 'blob'): Buffer {
  const line = () => `${randomBytes(36).toString('base64')}\r\n`;
  const text = Array.from({ length: Math.ceil(size / 50) }, line).join('');
  return rawMessage({ From: 'a@x.test', To: 'u@x.test', Subject: subject }, text);
}

function deliverRequest(bytes: Buffer | StreamedBlob, mailboxIds: string[]): DeliverRequest {
  return {
    bytes,
    envelopeFrom: 'a@x.test',
    forwardSender: 'SRS0=x=y=x.test=a@bounce.test',
    remoteIp: '192.0.2.1',
    helo: 'x.test',
    header,
    spamScore: 0,
    authResults: {},
    tenants: [
      {
        tenantId: t.tenantId,
        copies: mailboxIds.map((mailboxId) => ({
          target: { mailboxId },
          envelopeTo: 'u@x',
          folder: { kind: 'inbox' as const },
          flags: [],
          filterTrace: null,
        })),
        forwards: [],
        vacations: [],
      },
    ],
    vacationReplies: new Map(),
  };
}

function streamed(bytes: Buffer): StreamedBlob {
  return {
    size: bytes.length,
    sha256: sha(bytes),
    async *chunks() {
      for (let at = 0; at < bytes.length; at += 1024 * 1024) yield bytes.subarray(at, at + 1024 * 1024);
    },
  };
}

async function read(store: MailStore, sha256: string, range?: { start: number; end: number }, place?: BlobPlace) {
  const chunks: Buffer[] = [];
  for await (const chunk of store.readBlob(t.tenantId, sha256, range, place)) chunks.push(chunk);
  return chunks;
}

async function blobRow(sha256: string) {
  return db.prisma.messageBlob.findUnique({ where: { tenantId_sha256: { tenantId: t.tenantId, sha256 } } });
}

function append(store: MailStore, raw: Buffer, box = 0) {
  return store.append({
    tenantId: t.tenantId,
    mailboxId: t.boxes[box]!.id,
    folderId: t.boxes[box]!.inbox,
    raw,
    flags: [],
    receivedAt: null,
    header,
  });
}

/** Removes every message of the blob and ages the blob past GC's grace. */
async function orphan(store: MailStore, sha256: string) {
  const ids = (await db.prisma.message.findMany({ where: { tenantId: t.tenantId, blobSha256: sha256 } })).map(
    (m) => m.id,
  );
  await store.transaction((tx) => store.remove(tx, t.tenantId, ids));
  await db.prisma.$executeRaw`
    UPDATE message_blobs SET created_at = now() - interval '2 hours'
    WHERE tenant_id = ${t.tenantId}::uuid AND sha256 = ${sha256}`;
}

describe.each(['db', 's3'] as const)('message bodies with BLOB_STORE=%s', (backend) => {
  let sut: MailStore;

  beforeAll(() => {
    useBlobStore(backend === 's3' ? s3.store() : new BlobStore());
    sut = new MailStore(db.prisma, { usage: new TenantUsage() });
  });

  async function expectStored(bytes: Buffer) {
    const row = await blobRow(sha(bytes));
    expect(row).toMatchObject({ storage: backend, size: bytes.length });
    if (backend === 's3') {
      expect(row!.bytes).toBeNull();
      expect(row!.storageKey).toBe(objectKey(t.tenantId, sha(bytes)));
      const object = await s3.store().objects!.get(row!.storageKey!);
      expect(object.equals(bytes)).toBe(true);
    } else {
      expect(Buffer.from(row!.bytes!).equals(bytes)).toBe(true);
    }
  }

  it('every writer (deliver, APPEND, streamed deliver, generated DSN, queued DSN) stores the body where BLOB_STORE says', async () => {
    const delivered = body(20_000, 'deliver');
    const appended = body(300_000, 'append');
    const large = body(3 * 1024 * 1024, 'streamed');
    const dsn = body(2_000, 'dsn');
    const queued = body(2_000, 'queued dsn');
    await sut.deliver(deliverRequest(delivered, [t.boxes[0]!.id, t.boxes[1]!.id]));
    await append(sut, appended);
    await sut.deliver(deliverRequest(streamed(large), [t.boxes[0]!.id]));
    let deliveryId = '';
    await sut.transaction(async (tx) => {
      await sut.storeGenerated(tx, {
        tenantId: t.tenantId,
        mailboxId: t.boxes[0]!.id,
        folderKind: 'inbox',
        raw: dsn,
        envelopeFrom: '',
        envelopeTo: 'u@x',
        subject: 'Undelivered',
        fromAddress: 'mailer-daemon@x',
        messageId: null,
      });
      deliveryId = await queueGeneratedOutbound(
        tx,
        t.tenantId,
        { kind: 'dsn', fromDomain: 'x.test', subject: 'dsn', bytes: queued, to: 'r@remote.test' },
        new Date(Date.now() + 86_400_000),
      );
    });
    for (const b of [delivered, appended, large, dsn, queued]) await expectStored(b);
    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId } })).toBe(5);
    // The worker's outbound claim: the body in the row, or where to read it whole (the agent reads it).
    const claimed = (await new DeliveryRepository(db.prisma).claim(t.tenantId, deliveryId, 0))!;
    if (backend === 's3') {
      expect(claimed.message.bytes.length).toBe(0);
      expect(claimed.objectBody).toEqual({ storage: 's3', key: objectKey(t.tenantId, sha(queued)) });
      expect((await blobStore().getObject('s3', claimed.objectBody!.key)).equals(queued)).toBe(true);
    } else {
      expect(claimed.objectBody).toBeNull();
      expect(claimed.message.bytes.equals(queued)).toBe(true);
    }
  });

  it('reads a body back whole in 256 KiB slices and any range exactly (IMAP FETCH, POP3 RETR)', async () => {
    const big = body(1024 * 1024 + 1234);
    await append(sut, big);
    const whole = await read(sut, sha(big));
    expect(whole.slice(0, -1).every((c) => c.length === 256 * 1024)).toBe(true);
    expect(Buffer.concat(whole).equals(big)).toBe(true);
    const part = await read(sut, sha(big), { start: 1000, end: 700_000 });
    expect(part.map((c) => c.length)).toEqual([262_144, 262_144, 699_000 - 524_288]);
    expect(Buffer.concat(part).equals(big.subarray(1000, 700_000))).toBe(true);
    const tail = await read(sut, sha(big), { start: big.length - 10, end: big.length + 100 });
    expect(Buffer.concat(tail).equals(big.subarray(big.length - 10))).toBe(true);
    expect(await read(sut, sha(big), { start: 5, end: 5 })).toEqual([]);
  });

  it('FETCH batches leave an S3 body to readBlob and give a database body inline', async () => {
    const small = body(1_000);
    const { uid } = await append(sut, small);
    const [m] = await sut.fetchMessages(t.tenantId, t.boxes[0]!.inbox, [uid], {
      structures: true,
      bodies: true,
      inlineMax: 1024 * 1024,
      blobRows: 10,
      blobBytes: 1024 * 1024,
    });
    expect(m!.blob!.size).toBe(small.length);
    if (backend === 's3') {
      expect(m!.blob!.bytes).toBeNull();
      // Where the object is comes with the batch: readBlob then makes the GET and no query.
      expect(m!.blob!.object).toEqual({ storage: 's3', key: objectKey(t.tenantId, sha(small)) });
    } else {
      expect(m!.blob!.bytes!.equals(small)).toBe(true);
      expect(m!.blob!.object).toBeNull();
    }
    expect(Buffer.concat(await read(sut, m!.blobSha256)).equals(small)).toBe(true);
    expect(
      Buffer.concat(await read(sut, m!.blobSha256, { start: 10, end: 20 }, m!.blob!)).equals(small.subarray(10, 20)),
    ).toBe(true);
    const [batch] = await sut.fetchBlobs(t.tenantId, [sha(small)], { structures: false, bodies: true, inlineMax: 100 });
    expect(batch![1]).toMatchObject({ size: small.length, bytes: null, object: m!.blob!.object });
    expect(Buffer.concat(await read(sut, m!.blobSha256, undefined, batch![1])).equals(small)).toBe(true);
  });

  it('the worker parses a body from either backend', async () => {
    await append(sut, rawMessage({ From: 'a@x.test', Subject: 'parse me' }, 'findable words'));
    const result = await parsePendingMessages(sut);
    expect(result.failed).toBe(0);
    expect(result.parsed).toBeGreaterThan(0);
  });

  it('blob GC deletes an unreferenced old body (row and object) and keeps referenced and young ones', async () => {
    const gone = body(5_000, 'gone');
    const kept = body(5_000, 'kept');
    const young = body(5_000, 'young');
    await append(sut, gone);
    await append(sut, kept);
    await append(sut, young);
    await orphan(sut, sha(gone));
    await db.prisma.$executeRaw`UPDATE message_blobs SET created_at = now() - interval '2 hours'
      WHERE tenant_id = ${t.tenantId}::uuid AND sha256 = ${sha(kept)}`;
    const ids = (await db.prisma.message.findMany({ where: { blobSha256: sha(young) } })).map((m) => m.id);
    await sut.transaction((tx) => sut.remove(tx, t.tenantId, ids));

    const stats = await runBlobGc(ctx, undefined);

    expect(stats.deleted).toBeGreaterThanOrEqual(1);
    expect(await blobRow(sha(gone))).toBeNull();
    expect(await blobRow(sha(kept))).not.toBeNull();
    expect(await blobRow(sha(young))).not.toBeNull();
    if (backend === 's3') {
      const keys = await s3.keys();
      expect(keys).not.toContain(objectKey(t.tenantId, sha(gone)));
      expect(keys).toContain(objectKey(t.tenantId, sha(kept)));
      expect(keys).toContain(objectKey(t.tenantId, sha(young)));
    }
  });
});

describe('bodies in S3 only', () => {
  /** An object store that fails on purpose: puts after the first `okPuts`, or every delete. */
  function failing(objects: ObjectStore, o: { okPuts?: number; deletes?: boolean }): ObjectStore {
    let puts = 0;
    return {
      put: (key, b) =>
        puts++ < (o.okPuts ?? Infinity) ? objects.put(key, b) : Promise.reject(new Error('put failed')),
      read: (key, range) => objects.read(key, range),
      get: (key) => objects.get(key),
      delete: (key) => (o.deletes ? Promise.reject(new Error('delete failed')) : objects.delete(key)),
      list: (after) => objects.list(after),
    };
  }

  it('BLOB_S3_MIN_BYTES keeps bodies below it in PostgreSQL and puts the others in S3', async () => {
    useBlobStore(s3.store({ BLOB_S3_MIN_BYTES: 10_000 }));
    const sut = new MailStore(db.prisma, { usage: new TenantUsage() });
    const small = body(2_000);
    const big = body(20_000);
    await sut.deliver(deliverRequest(small, [t.boxes[0]!.id]));
    await sut.deliver(deliverRequest(big, [t.boxes[0]!.id]));
    expect(await blobRow(sha(small))).toMatchObject({ storage: 'db', storageKey: null });
    expect(await blobRow(sha(big))).toMatchObject({ storage: 's3', bytes: null });
    expect(await s3.keys()).not.toContain(objectKey(t.tenantId, sha(small)));
    expect(Buffer.concat(await read(sut, sha(small))).equals(small)).toBe(true);
    expect(Buffer.concat(await read(sut, sha(big))).equals(big)).toBe(true);
  });

  it('with S3 down a delivery fails and commits nothing; with S3 back the same delivery succeeds', async () => {
    useBlobStore(s3.store());
    const sut = new MailStore(db.prisma, { usage: new TenantUsage() });
    const bytes = body(50_000);
    await s3.stop();
    try {
      await expect(sut.deliver(deliverRequest(bytes, [t.boxes[0]!.id]))).rejects.toThrow();
      await expect(sut.deliver(deliverRequest(streamed(bytes), [t.boxes[0]!.id]))).rejects.toThrow();
      await expect(append(sut, bytes)).rejects.toThrow();
    } finally {
      await s3.start();
    }
    expect(await db.prisma.message.count({ where: { tenantId: t.tenantId } })).toBe(0);
    expect(await blobRow(sha(bytes))).toBeNull();
    await sut.deliver(deliverRequest(bytes, [t.boxes[0]!.id]));
    expect(Buffer.concat(await read(sut, sha(bytes))).equals(bytes)).toBe(true);
  });

  it('blob GC keeps the row when the object cannot be deleted, and deletes both on the next run', async () => {
    const objects = s3.store().objects!;
    useBlobStore(new BlobStore(failing(objects, { deletes: true }), 's3'));
    const sut = new MailStore(db.prisma, { usage: new TenantUsage() });
    const bytes = body(5_000);
    await append(sut, bytes);
    await orphan(sut, sha(bytes));
    await expect(runBlobGc(ctx, undefined)).rejects.toThrow('delete failed');
    expect(await blobRow(sha(bytes))).not.toBeNull();
    expect(await s3.keys()).toContain(objectKey(t.tenantId, sha(bytes)));
    useBlobStore(new BlobStore(objects, 's3'));
    await runBlobGc(ctx, undefined);
    expect(await blobRow(sha(bytes))).toBeNull();
    expect(await s3.keys()).not.toContain(objectKey(t.tenantId, sha(bytes)));
  });

  it('a writer that re-uses a body GC is deleting waits for it and puts the object again', async () => {
    useBlobStore(s3.store());
    const sut = new MailStore(db.prisma, { usage: new TenantUsage() });
    const bytes = body(5_000);
    await append(sut, bytes);
    await orphan(sut, sha(bytes));
    // GC deletes the row and the object, and holds its transaction open; the writer waits on the row.
    let release!: () => void;
    const held = new Promise<void>((r) => (release = r));
    const gc = sut.transaction(async (tx) => {
      await tx.$executeRaw`DELETE FROM message_blobs WHERE tenant_id = ${t.tenantId}::uuid AND sha256 = ${sha(bytes)}`;
      await s3.store().objects!.delete(objectKey(t.tenantId, sha(bytes)));
      await held;
    });
    await new Promise((r) => setTimeout(r, 100));
    const writer = append(sut, bytes, 1);
    await new Promise((r) => setTimeout(r, 200));
    release();
    await gc;
    await writer;
    expect(await blobRow(sha(bytes))).toMatchObject({ storage: 's3' });
    expect(Buffer.concat(await read(sut, sha(bytes))).equals(bytes)).toBe(true);
  });

  it('the migration moves database bodies to S3 in batches, resumes after an interruption, and a second run is a no-op', async () => {
    // Bodies written while BLOB_STORE=db.
    useBlobStore(new BlobStore());
    const sut = new MailStore(db.prisma, { usage: new TenantUsage() });
    const bodies = Array.from({ length: 7 }, (_, i) => body(3_000 + i * 1000, `m${i}`));
    for (const b of bodies) await append(sut, b);
    const objects = s3.store().objects!;
    await moveAll(objects); // whatever earlier cases left in PostgreSQL
    const ours = () =>
      db.prisma.messageBlob.findMany({ where: { tenantId: t.tenantId, sha256: { in: bodies.map(sha) } } });
    for (const b of bodies) {
      await db.prisma.$executeRaw`UPDATE message_blobs SET storage = 'db', storage_key = NULL, bytes = ${b}
        WHERE tenant_id = ${t.tenantId}::uuid AND sha256 = ${sha(b)}`;
    }

    // Interrupted: the third put fails; the batch rolls back, the first two objects are left over.
    await expect(moveBlobsToObjectStore(db.prisma, failing(objects, { okPuts: 2 }), { batch: 3 })).rejects.toThrow(
      'put failed',
    );
    expect((await ours()).filter((r) => r.storage === 's3')).toHaveLength(0);
    // A bounded run (--max) stops part-way.
    const progress: number[] = [];
    const part = await moveBlobsToObjectStore(db.prisma, objects, {
      batch: 2,
      max: 3,
      onProgress: (p) => progress.push(p.moved),
    });
    expect(part.moved).toBe(3);
    expect(progress).toEqual([2, 3]);
    // The rest, then nothing.
    const rest = await moveBlobsToObjectStore(db.prisma, objects, { batch: 2 });
    expect(rest).toMatchObject({ moved: 4, left: 0 });
    expect(await moveBlobsToObjectStore(db.prisma, objects, { batch: 2 })).toEqual({ moved: 0, bytes: 0, left: 0 });
    const rows = await ours();
    expect(rows.map((r) => [r.storage, r.bytes])).toEqual(bodies.map(() => ['s3', null]));
    useBlobStore(new BlobStore(objects, 'db'));
    for (const b of bodies) expect(Buffer.concat(await read(sut, sha(b))).equals(b)).toBe(true);
  });

  it('the orphan sweep deletes objects no row refers to and keeps the others', async () => {
    const objects = s3.store().objects!;
    useBlobStore(new BlobStore(objects, 's3'));
    const sut = new MailStore(db.prisma, { usage: new TenantUsage() });
    const referenced = body(3_000, 'referenced');
    await append(sut, referenced);
    const stray = body(3_000, 'stray');
    await objects.put(objectKey(t.tenantId, sha(stray)), stray);
    const purged = body(3_000, 'purged tenant');
    const noTenant = '00000000-0000-4000-8000-000000000001';
    await objects.put(objectKey(noTenant, sha(purged)), purged);
    useBlobStore(new BlobStore(objects, 'db'));
    const inDb = body(3_000, 'left by a migration');
    await append(sut, inDb);
    await objects.put(objectKey(t.tenantId, sha(inDb)), inDb);

    await sweepOrphanObjects(db.prisma, objects, new Date(Date.now() + 60_000));

    const keys = await s3.keys();
    expect(keys).toContain(objectKey(t.tenantId, sha(referenced)));
    expect(keys).not.toContain(objectKey(t.tenantId, sha(stray)));
    expect(keys).not.toContain(objectKey(noTenant, sha(purged)));
    expect(keys).not.toContain(objectKey(t.tenantId, sha(inDb)));
    expect(await blobRow(sha(stray))).toBeNull();
    expect(Buffer.concat(await read(sut, sha(inDb))).equals(inDb)).toBe(true);
    expect(Buffer.concat(await read(sut, sha(referenced))).equals(referenced)).toBe(true);
  });
});

async function moveAll(objects: ObjectStore) {
  await moveBlobsToObjectStore(db.prisma, objects, { batch: 100 });
}
