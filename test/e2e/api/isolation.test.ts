import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TenantDb } from '@mailroom/api/infra/tenant-db.service';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Session, startApi, type Client, type TestApi } from '@test/support/api';
import type { WalkModule } from '@test/e2e/api/walk/walk.types';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;
type Reseller = Awaited<ReturnType<Session['newReseller']>>;

// Every module's walk description (ids of the victim's objects, sample bodies for writes).
const modules: WalkModule[] = [];
async function loadWalkModules(): Promise<void> {
  const dir = path.join(__dirname, 'walk');
  for (const file of fs
    .readdirSync(dir)
    .filter((f) => f.endsWith('.walk.ts'))
    .sort()) {
    modules.push(((await import(path.join(dir, file))) as { walk: WalkModule }).walk);
  }
}

function sampleBody(method: string, path: string, victim: { resellerId: string }): unknown {
  if (method === 'GET' || method === 'DELETE') return undefined;
  const key = `${method} ${path}`;
  const found = modules.find((m) => key in m.bodies);
  if (!found) throw new Error(`add a sample body for ${key} to a test/e2e/api/walk/*.walk.ts file`);
  const body = found.bodies[key];
  // A tenant created "under" the victim's reseller: the body itself points at the victim.
  return key === 'POST /v1/tenants' ? { ...(body as object), resellerId: victim.resellerId } : body;
}

/**
 * Routes with no credential to misuse: they take an email, a password, a sign-in challenge or a
 * refresh token, or publish what DNS publishes anyway (client settings and MTA-STS policies of
 * hosted domains).
 */
const PUBLIC = new Set([
  '/health',
  '/v1/auth/login',
  '/v1/auth/login/mfa',
  '/v1/auth/refresh',
  '/v1/auth/logout',
  '/v1/client-settings',
  '/mail/config-v1.1.xml',
  '/.well-known/autoconfig/mail/config-v1.1.xml',
  '/autodiscover/autodiscover.xml',
  '/Autodiscover/Autodiscover.xml',
  '/.well-known/mta-sts.txt',
]);

describe('tenant isolation', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let resellerA: Reseller;
  let victim: Tenant;
  let resellerB: Reseller;
  let attacker: Tenant;
  const victimIds: Record<string, string> = {};

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    resellerA = await sut.newReseller();
    victim = await sut.newTenant(resellerA);
    resellerB = await sut.newReseller();
    attacker = await sut.newTenant(resellerB);
    await loadWalkModules();
    for (const m of modules) {
      Object.assign(victimIds, await m.setup?.({ session: sut, db, victim, victimReseller: resellerA }));
    }
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  /** Every row that belongs to the victim tenant or its reseller, as JSON. */
  async function victimSnapshot(): Promise<string> {
    const parts: string[] = [];
    const tables = await db.prisma.$queryRaw<{ table_name: string; has_tenant: boolean; has_reseller: boolean }[]>`
      SELECT table_name,
        bool_or(column_name = 'tenant_id') AS has_tenant,
        bool_or(column_name = 'reseller_id') AS has_reseller
      FROM information_schema.columns WHERE table_schema = 'public' GROUP BY table_name ORDER BY table_name`;
    for (const t of tables) {
      const conditions = [
        t.has_tenant ? `tenant_id = '${victim.id}'` : null,
        t.has_reseller ? `reseller_id = '${resellerA.id}'` : null,
        t.table_name === 'tenants' ? `id = '${victim.id}'` : null,
        t.table_name === 'resellers' ? `id = '${resellerA.id}'` : null,
      ].filter(Boolean);
      if (!conditions.length) continue;
      const data = await db.prisma.$queryRawUnsafe<{ r: string }[]>(
        `SELECT row_to_json(x)::text AS r FROM "${t.table_name}" x WHERE ${conditions.join(' OR ')} ORDER BY 1`,
      );
      parts.push(`${t.table_name}: ${data.map((d) => d.r).join('\n')}`);
    }
    return parts.join('\n');
  }

  function fill(path: string, ids: Record<string, string>): string {
    return path.replace(/\{(\w+)\}/g, (_, name: string) => {
      if (!(name in ids)) throw new Error(`the walk has no id for {${name}} in ${path}`);
      return ids[name]!;
    });
  }

  it('walks every route of the OpenAPI document with another tenant’s credentials: nothing leaks, nothing changes', async () => {
    const doc = (await sut.anonymous().get('/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
    const missingIds = Object.fromEntries(Object.keys(victimIds).map((name) => [name, randomUUID()]));
    const secrets = Object.values(victimIds);
    const attackers: [string, Client][] = [
      ['tenant admin', attacker.admin],
      ['tenant API key', attacker.key],
      ['tenant viewer', attacker.viewer],
      ['other reseller', resellerB.admin],
    ];
    const before = await victimSnapshot();
    let calls = 0;
    for (const [path, operations] of Object.entries(doc.paths)) {
      if (PUBLIC.has(path) || path.startsWith('/docs')) continue;
      for (const method of Object.keys(operations).map((m) => m.toUpperCase())) {
        for (const [who, client] of attackers) {
          const label = `${who}: ${method} ${path}`;
          const body = sampleBody(method, path, { resellerId: resellerA.id });
          const res = await client.request(method, fill(path, victimIds), body);
          calls++;
          if (path.includes('{')) {
            // Exactly what an id that does not exist gets, once the ids echoed from the request
            // (in `detail` and `instance`) are put back.
            const missing = await client.request(method, fill(path, missingIds), body);
            const normalize = (b: unknown, ids: Record<string, string>) => {
              let text = JSON.stringify(b).replace(/"correlationId":"[^"]*"/, '');
              for (const [name, id] of Object.entries(ids)) text = text.replaceAll(id, `{${name}}`);
              return text;
            };
            expect(res.status, label).toBe(missing.status);
            expect(normalize(res.body, victimIds), label).toBe(normalize(missing.body, missingIds));
            expect([403, 404], label).toContain(res.status);
            if (path.startsWith('/v1/tenants/{tenantId}')) expect(res.status, label).toBe(404);
          } else {
            expect(res.status, label).toBeLessThan(500);
            // No victim id the request did not itself carry may appear in the answer.
            const unsent = secrets.filter((id) => !JSON.stringify(body ?? '').includes(id));
            expect(JSON.stringify(res.body), label).not.toMatch(new RegExp(unsent.join('|')));
          }
        }
      }
    }
    expect(calls).toBeGreaterThan(60);
    expect(await victimSnapshot()).toBe(before);
    // The victim's credentials still work, and their objects are intact.
    expect((await victim.key.get(`/v1/tenants/${victim.id}`)).body.name).not.toBe('Taken Over');
  });

  it('lists show only the caller’s own tenants', async () => {
    const asTenant = await attacker.admin.get('/v1/tenants');
    expect(asTenant.body.items.map((t: { id: string }) => t.id)).toEqual([attacker.id]);
    const asReseller = await resellerB.admin.get('/v1/tenants');
    expect(asReseller.body.items.map((t: { id: string }) => t.id)).toEqual([attacker.id]);
  });

  it('row-level security returns only the scoped tenant’s rows to a query without a tenant filter', async () => {
    const seed = async (tenantId: string, name: string) => {
      const domain = await db.prisma.domain.create({
        data: { tenantId, name, unicodeName: name, ownershipToken: 't' },
      });
      await db.prisma.mailbox.create({ data: { tenantId, domainId: domain.id, localPart: 'info', passwordHash: 'x' } });
      return domain;
    };
    await seed(victim.id, 'victim.example');
    const theirs = await seed(attacker.id, 'attacker.example');
    const tenantDb = api.app.get(TenantDb);

    const seen = await tenantDb.tenant(attacker.id, async (tx) => ({
      mailboxes: await tx.mailbox.findMany(), // no where clause at all
      domains: await tx.domain.findMany(),
      tenants: await tx.tenant.findMany(),
      keys: await tx.apiKey.findMany(),
      raw: await tx.$queryRaw<{ n: bigint }[]>`SELECT count(*) AS n FROM mailboxes`,
    }));
    expect(seen.mailboxes.map((m) => m.tenantId)).toEqual([attacker.id]);
    expect(seen.domains.map((d) => d.name)).toEqual(['attacker.example']);
    expect(seen.tenants.map((t) => t.id)).toEqual([attacker.id]);
    expect(seen.keys.every((k) => k.tenantId === attacker.id)).toBe(true);
    expect(Number(seen.raw[0]!.n)).toBe(1);

    // Writes into another tenant are refused by the policy's WITH CHECK, and updates miss.
    await expect(
      tenantDb.tenant(attacker.id, (tx) =>
        tx.mailbox.create({ data: { tenantId: victim.id, domainId: theirs.id, localPart: 'evil', passwordHash: 'x' } }),
      ),
    ).rejects.toThrow(/row-level security|violates/);
    const updated = await tenantDb.tenant(attacker.id, (tx) =>
      tx.mailbox.updateMany({ where: { tenantId: victim.id }, data: { displayName: 'pwned' } }),
    );
    expect(updated.count).toBe(0);
    expect(await db.prisma.mailbox.count({ where: { displayName: 'pwned' } })).toBe(0);
  });
});
