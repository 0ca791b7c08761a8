import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import argon2 from 'argon2';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { APP_ENTRY, appEnv, runNode } from '@test/support/processes';

describe('npm run cli -- admin:create', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  beforeAll(async () => {
    db = await createTestDatabase();
    env = await appEnv(db.url);
  });
  afterAll(() => db.drop());

  const cli = async (...args: string[]) => {
    const proc = runNode(APP_ENTRY.cli, args, env);
    return { code: await proc.exited, output: proc.output() };
  };

  it('creates a platform admin with an argon2id hash of the chosen password', async () => {
    const sut = await cli('admin:create', '--email', 'Ops@Example.com', '--password', 'correct horse battery');
    expect(sut.code).toBe(0);
    expect(sut.output).toMatch(/^created platform admin ops@example.com \(/);
    const admin = await db.prisma.adminUser.findUniqueOrThrow({ where: { email: 'ops@example.com' } });
    expect(admin.role).toBe('platform_admin');
    expect(admin.passwordHash).toMatch(/^\$argon2id\$/);
    expect(await argon2.verify(admin.passwordHash, 'correct horse battery')).toBe(true);
    expect(sut.output).not.toContain('correct horse battery');
  });

  it('refuses a short password and a second admin with the same email', async () => {
    const weak = await cli('admin:create', '--email', 'new@example.com', '--password', 'short');
    expect(weak.code).toBe(1);
    expect(weak.output.trim()).toBe('error: password: must be at least 12 characters');
    const again = await cli('admin:create', '--email', 'ops@example.com', '--password', 'another long passphrase');
    expect(again.code).toBe(1);
    expect(again.output.trim()).toBe('error: an admin with email ops@example.com already exists');
    expect(await db.prisma.adminUser.count()).toBe(1);
  });

  it('prints usage and exits 2 for an unknown command', async () => {
    const sut = await cli('frobnicate');
    expect(sut.code).toBe(2);
    expect(sut.output).toContain('unknown command: frobnicate');
  });
});
