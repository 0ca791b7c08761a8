import { createHash, randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BlobStore, MailStore, TenantUsage, objectKey, useBlobStore } from '@mailroom/mailstore';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { rawMessage } from '@test/support/mail-fixtures';
import { APP_ENTRY, appEnv, runNode } from '@test/support/processes';
import { startLocalS3, type LocalS3 } from '@test/support/s3';
import { seedTenant } from '@test/support/worker-fixtures';

// `npm run cli -- blobs:migrate` and `blobs:sweep` as an operator runs them (the built CLI),
// against an S3-compatible server on loopback.
describe('npm run cli -- blobs:migrate --to s3', () => {
  let db: TestDatabase;
  let s3: LocalS3;
  let env: Record<string, string>;
  let t: Awaited<ReturnType<typeof seedTenant>>;
  const bodies = Array.from({ length: 5 }, (_, i) =>
    rawMessage({ Subject: `m${i}` }, randomBytes(4000).toString('base64')),
  );
  const sha = (b: Buffer) => createHash('sha256').update(b).digest('hex');

  beforeAll(async () => {
    db = await createTestDatabase();
    s3 = await startLocalS3();
    env = await appEnv(db.url, s3.env({ BLOB_STORE: 'db' }));
    t = await seedTenant(db.prisma, 1);
    useBlobStore(new BlobStore());
    const store = new MailStore(db.prisma, { usage: new TenantUsage() });
    for (const raw of bodies) {
      await store.append({
        tenantId: t.tenantId,
        mailboxId: t.boxes[0]!.id,
        folderId: t.boxes[0]!.inbox,
        raw,
        flags: [],
        receivedAt: null,
        header: {
          messageId: null,
          subject: null,
          fromAddress: null,
          fromName: null,
          toAddresses: [],
          sentAt: null,
          sortKeys: null,
        },
      });
    }
  });
  afterAll(async () => {
    await s3?.close();
    await db?.drop();
  });

  const cli = async (...args: string[]) => {
    const proc = runNode(APP_ENTRY.cli, args, env);
    return {
      code: await proc.exited,
      output: proc.output().replace(/^\(node:\d+\) Warning[\s\S]*?trace-warnings[^\n]*\n/m, ''),
    };
  };

  it('moves bodies in batches with progress, resumes where a bounded run stopped, then has nothing to move', async () => {
    const blobs = 6; // the fixture's shared blob and five messages
    const first = await cli('blobs:migrate', '--to', 's3', '--batch', '2', '--max', '3');
    expect(first.code).toBe(0);
    expect(first.output).toContain(`moved 2 blobs`);
    expect(first.output).toContain(`done: 3 blobs moved`);
    expect(first.output).toContain(`${blobs - 3} left in PostgreSQL`);
    const rest = await cli('blobs:migrate', '--to', 's3', '--batch', '2');
    expect(rest.code).toBe(0);
    expect(rest.output).toContain(`done: ${blobs - 3} blobs moved`);
    expect(rest.output).toContain('0 left in PostgreSQL');
    const again = await cli('blobs:migrate', '--to', 's3');
    expect(again.output).toContain('nothing to move: every body is in S3 already');
    const rows = await db.prisma.messageBlob.findMany({ where: { tenantId: t.tenantId } });
    expect(rows.map((r) => [r.storage, r.bytes])).toEqual(rows.map(() => ['s3', null]));
    for (const raw of bodies) {
      expect((await s3.store().objects!.get(objectKey(t.tenantId, sha(raw)))).equals(raw)).toBe(true);
    }
    expect(first.output + rest.output).not.toContain('S3RVER');
  });

  it('sweeps an object no row refers to', async () => {
    const stray = Buffer.from('stray');
    await s3.store().objects!.put(objectKey(t.tenantId, sha(stray)), stray);
    const sut = await cli('blobs:sweep', '--older-than-hours', '0');
    expect(sut.code).toBe(0);
    expect(sut.output).toMatch(/swept: \d+ objects listed, 1 orphans deleted/);
    expect(await s3.keys()).not.toContain(objectKey(t.tenantId, sha(stray)));
  });

  it('refuses to migrate without --to s3', async () => {
    const noTo = await cli('blobs:migrate');
    expect(noTo.code).toBe(2);
    expect(noTo.output).toContain('blobs:migrate needs --to s3');
  });
});
