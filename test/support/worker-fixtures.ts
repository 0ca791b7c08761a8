import { randomBytes } from 'node:crypto';
import { expect } from 'vitest';
import type { PrismaClient } from '@mailroom/db';

// Fixtures of the maintenance job tests (test/integration/worker/*.test.ts).

/** A tenant, a domain, mailboxes with INBOX, Trash and Junk, and one shared blob. */
export async function seedTenant(prisma: PrismaClient, mailboxes = 1) {
  const tenant = await prisma.tenant.create({ data: { name: `T ${randomBytes(3).toString('hex')}` } });
  const name = `d${randomBytes(4).toString('hex')}.example`;
  const domain = await prisma.domain.create({
    data: { tenantId: tenant.id, name, unicodeName: name, ownershipToken: 't', status: 'active' },
  });
  const sha256 = randomBytes(32).toString('hex');
  await prisma.messageBlob.create({ data: { tenantId: tenant.id, sha256, size: 100, bytes: Buffer.alloc(100) } });
  const boxes = [];
  for (let i = 0; i < mailboxes; i++) {
    const mb = await prisma.mailbox.create({
      data: { tenantId: tenant.id, domainId: domain.id, localPart: `u${i}`, passwordHash: 'x' },
    });
    const folder = (fname: string, kind: 'inbox' | 'trash' | 'junk' | 'archive') =>
      prisma.folder.create({ data: { tenantId: tenant.id, mailboxId: mb.id, name: fname, kind } });
    boxes.push({
      id: mb.id,
      inbox: (await folder('INBOX', 'inbox')).id,
      trash: (await folder('Trash', 'trash')).id,
      junk: (await folder('Junk', 'junk')).id,
      archive: (await folder('Archive', 'archive')).id,
    });
  }
  return { tenantId: tenant.id, domainId: domain.id, sha256, boxes };
}

/**
 * `count` messages of `size` bytes in a folder, received `ageDays` ago (plus i seconds), with
 * the mailbox's quota charged as the MTA does.
 */
export async function addMessages(
  prisma: PrismaClient,
  t: { tenantId: string; sha256: string },
  mailboxId: string,
  folderId: string,
  count: number,
  ageDays: number,
  size = 100,
) {
  await prisma.$executeRaw`
    INSERT INTO messages (tenant_id, mailbox_id, folder_id, blob_sha256, uid, size, flags, envelope_from, envelope_to, received_at)
    SELECT ${t.tenantId}::uuid, ${mailboxId}::uuid, ${folderId}::uuid, ${t.sha256},
      (SELECT COALESCE(max(uid), 0) FROM messages WHERE tenant_id = ${t.tenantId}::uuid AND folder_id = ${folderId}::uuid) + g,
      ${size}, '{}', 's@example.com', 'r@example.com',
      now() - make_interval(days => ${ageDays}) - make_interval(secs => g)
    FROM generate_series(1, ${count}) g`;
  await prisma.$executeRaw`
    UPDATE mailboxes SET used_bytes = used_bytes + ${count * size}, message_count = message_count + ${count}
    WHERE tenant_id = ${t.tenantId}::uuid AND id = ${mailboxId}::uuid`;
}

export async function countIn(prisma: PrismaClient, folderId: string): Promise<number> {
  return prisma.message.count({ where: { folderId } });
}

/** used_bytes and message_count equal the sums of the mailbox's rows. */
export async function expectExactQuota(prisma: PrismaClient, tenantId: string) {
  const rows = await prisma.$queryRaw<{ id: string; used: bigint; n: number; bytes: bigint; real: number }[]>`
    SELECT mb.id, mb.used_bytes AS used, mb.message_count AS n,
      COALESCE((SELECT sum(size) FROM messages m WHERE m.tenant_id = mb.tenant_id AND m.mailbox_id = mb.id), 0)::bigint AS bytes,
      (SELECT count(*) FROM messages m WHERE m.tenant_id = mb.tenant_id AND m.mailbox_id = mb.id)::int AS real
    FROM mailboxes mb WHERE mb.tenant_id = ${tenantId}::uuid`;
  for (const r of rows) {
    expect(r.used, `used_bytes of ${r.id}`).toBe(r.bytes);
    expect(r.n, `message_count of ${r.id}`).toBe(r.real);
  }
}
