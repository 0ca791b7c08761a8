import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import argon2 from 'argon2';
import { apiKeyMatches } from '@mailroom/core';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { APP_ENTRY, appEnv, runNode } from '@test/support/processes';

interface Demo {
  tenantId: string;
  apiKey: string;
  mailbox: string;
  mailboxPassword: string;
  adminEmail: string;
  adminPassword: string;
}

describe('npm run db:seed', () => {
  let db: TestDatabase;
  let env: Record<string, string>;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = await appEnv(db.url);
  });
  afterAll(() => db.drop());

  async function seed(): Promise<Demo> {
    const proc = runNode(APP_ENTRY.cli, ['seed', '--json'], env);
    expect(await proc.exited, proc.output()).toBe(0);
    return JSON.parse(proc.output()) as Demo;
  }

  async function counts() {
    const p = db.prisma;
    return {
      resellers: await p.reseller.count(),
      tenants: await p.tenant.count(),
      domains: await p.domain.count(),
      mailboxes: await p.mailbox.count(),
      folders: await p.folder.count(),
      activeKeys: await p.apiKey.count({ where: { revokedAt: null } }),
      admins: await p.adminUser.count(),
    };
  }

  it('creates the demo tenant with a working API key and mailbox password', async () => {
    const sut = await seed();
    expect(await counts()).toEqual({
      resellers: 1,
      tenants: 1,
      domains: 1,
      mailboxes: 1,
      folders: 5,
      activeKeys: 1,
      admins: 1,
    });
    const key = await db.prisma.apiKey.findFirstOrThrow({ where: { tenantId: sut.tenantId, revokedAt: null } });
    expect(apiKeyMatches(sut.apiKey, key.keyHash)).toBe(true);
    expect(key.keyHash).not.toContain(sut.apiKey);
    const mailbox = await db.prisma.mailbox.findFirstOrThrow();
    expect(mailbox.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await argon2.verify(mailbox.passwordHash, sut.mailboxPassword)).toBe(true);
    // The dashboard's demo sign-in: an admin of the demo tenant only.
    const admin = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: sut.adminEmail } });
    expect(admin).toMatchObject({ role: 'tenant_admin', tenantId: sut.tenantId, resellerId: null });
    expect(await argon2.verify(admin.passwordHash, sut.adminPassword)).toBe(true);
  });

  it('changes nothing when run again, and prints the same credentials', async () => {
    const first = await seed();
    const before = await counts();
    const second = await seed();
    expect(second).toEqual(first);
    expect(await counts()).toEqual(before);
  });
});
