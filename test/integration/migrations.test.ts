import { execFileSync } from 'node:child_process';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { Prisma } from '@mailroom/db';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { ROOT } from '@test/support/processes';

const migrate = (url: string) =>
  execFileSync(process.execPath, [path.join(ROOT, 'scripts/prisma-wasm.mjs'), 'deploy'], {
    env: { ...process.env, DATABASE_URL: url },
    encoding: 'utf8',
  });

describe('npm run db:migrate', () => {
  const created: TestDatabase[] = [];
  afterAll(async () => {
    for (const db of created) await db.drop();
  });

  it('applies every committed migration to an empty database, then finds nothing to do', async () => {
    const sut = await createTestDatabase({ migrated: false });
    created.push(sut);
    expect(migrate(sut.url)).toMatch(/^applied: \d{14}_init/);
    expect(migrate(sut.url).trim()).toBe('database is up to date');
    const rows = await sut.prisma.$queryRaw<{ migration_name: string; finished: boolean }[]>`
      SELECT migration_name, finished_at IS NOT NULL AS finished FROM _prisma_migrations`;
    expect(rows.length).toBeGreaterThan(0);
    expect(rows.every((r) => r.finished)).toBe(true);
  });

  it('creates a table for every model of schema.prisma with every column the client reads', async () => {
    const sut = await createTestDatabase();
    created.push(sut);
    // findFirst selects every scalar column: a model whose table or column is missing throws.
    const models = Object.values(Prisma.ModelName);
    expect(models.length).toBeGreaterThanOrEqual(29);
    for (const model of models) {
      const delegate = (sut.prisma as unknown as Record<string, { findFirst(): Promise<unknown> }>)[
        model.charAt(0).toLowerCase() + model.slice(1)
      ];
      await expect(delegate!.findFirst(), model).resolves.toBeNull();
    }
  });

  it('keeps data when run again on a database in use', async () => {
    const sut = await createTestDatabase();
    created.push(sut);
    await sut.prisma.reseller.create({ data: { name: 'Keeps Me' } });
    migrate(sut.url);
    expect(await sut.prisma.reseller.count({ where: { name: 'Keeps Me' } })).toBe(1);
  });

  it('leads every tenant-owned primary key with tenant_id', async () => {
    const sut = await createTestDatabase();
    created.push(sut);
    const rows = await sut.prisma.$queryRaw<{ table: string; first_key_column: string }[]>`
      SELECT c.relname AS table, a.attname AS first_key_column
      FROM pg_index i
      JOIN pg_class c ON c.oid = i.indrelid
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = i.indkey[0]
      JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE i.indisprimary AND n.nspname = 'public'
        AND EXISTS (SELECT 1 FROM pg_attribute t WHERE t.attrelid = c.oid AND t.attname = 'tenant_id' AND t.attnotnull)`;
    expect(rows.length).toBeGreaterThanOrEqual(20);
    expect(rows.filter((r) => r.first_key_column !== 'tenant_id')).toEqual([]);
  });
});
