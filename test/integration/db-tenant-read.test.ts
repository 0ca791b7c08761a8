import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { defineStatement, tenantScope } from '@mailroom/db';
import { createTestDatabase, type TestDatabase } from '@test/support/database';

// Statement.readInTenant (libs/db statements.ts): a tenant read in one round trip, as the API's
// list and read routes run it. Row-level security must hold exactly as in inTenantScope: the
// statement sees only the scope's tenant whatever its SQL says, and the pooled connection keeps
// neither the role nor the tenant afterwards.

let db: TestDatabase;
let tenantA: string;
let tenantB: string;

beforeAll(async () => {
  db = await createTestDatabase();
  const rows = await db.prisma.$queryRaw<{ id: string }[]>`
    INSERT INTO tenants (name, max_domains, max_mailboxes, storage_quota_bytes)
    VALUES ('a', 1, 1, 1), ('b', 1, 1, 1) RETURNING id::text`;
  [tenantA, tenantB] = rows.map((r) => r.id) as [string, string];
}, 60_000);
afterAll(() => db.drop());

// No tenant filter on purpose: only row-level security keeps tenant B out.
const EVERY_TENANT = defineStatement<{ id: string; who: string; scope: string; echo: string | null }, [string | null]>(
  'test_tenant_read_every_tenant',
  `SELECT t.id::text, current_user::text AS who, current_setting('app.tenant_id', true) AS scope, $1::text AS echo
     FROM tenants t ORDER BY t.name`,
);
const CONNECTION = defineStatement<{ who: string; scope: string | null }, []>(
  'test_tenant_read_connection',
  `SELECT current_user::text AS who, NULLIF(current_setting('app.tenant_id', true), '') AS scope`,
);

describe('Statement.readInTenant', () => {
  it('shows only the scope’s tenant, as mailroom_api, and leaves the pooled connection as it found it', async () => {
    for (let i = 0; i < 6; i++) {
      const tenant = i % 2 ? tenantB : tenantA;
      const rows = await EVERY_TENANT.readInTenant(tenantScope(db.prisma, tenant), [null]);
      expect(rows).toEqual([{ id: tenant, who: 'mailroom_api', scope: tenant, echo: null }]);
    }
    // Every connection of the pool (4) afterwards: the app's own role, no tenant.
    const after = await Promise.all(Array.from({ length: 8 }, () => CONNECTION.run(db.prisma, [])));
    for (const [row] of after) expect(row!.who).not.toBe('mailroom_api');
    for (const [row] of after) expect(row!.scope).toBeNull();
  });

  it('passes hostile parameters as values, never as SQL', async () => {
    for (const value of ["x'); SELECT 1; --", 'a\\b', "'", '"q"', 'é 中']) {
      const rows = await EVERY_TENANT.readInTenant(tenantScope(db.prisma, tenantA), [value]);
      expect(rows).toEqual([{ id: tenantA, who: 'mailroom_api', scope: tenantA, echo: value }]);
    }
  });

  it('passes SQL errors on and leaves the connection idle and unscoped', async () => {
    const BAD = defineStatement<{ n: number }, [string]>('test_tenant_read_bad', 'SELECT $1::uuid IS NULL AS n');
    await expect(BAD.readInTenant(tenantScope(db.prisma, tenantA), ['not a uuid'])).rejects.toThrow(/uuid/);
    const after = await Promise.all(Array.from({ length: 8 }, () => CONNECTION.run(db.prisma, [])));
    for (const [row] of after) expect(row).toEqual({ who: expect.not.stringMatching(/^mailroom_api$/), scope: null });
    expect(await EVERY_TENANT.readInTenant(tenantScope(db.prisma, tenantB), [null])).toHaveLength(1);
  });

  it('refuses a tenant id that is not a uuid and a scope it did not make', async () => {
    expect(() => tenantScope(db.prisma, "x', true); SELECT 1; --")).toThrow(/tenant id/);
    await expect(EVERY_TENANT.readInTenant({ db: db.prisma, tenantId: tenantA }, [null])).rejects.toThrow(
      /tenantScope/,
    );
  });
});
