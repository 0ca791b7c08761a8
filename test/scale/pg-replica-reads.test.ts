import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createPrismaClient } from '@mailroom/db';
import { TenantDb } from '@mailroom/api/infra/tenant-db.service';
import type { TestDatabase } from '@test/support/database';
import { Client, expectStatus, Session, startApi, type TestApi } from '@test/support/api';
import { startPgPair, type PgPair } from '@test/support/pg-replica';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

const GOOD = 'tangerine-orbit-42';
const MAX_LAG_MS = 4_000;
const STICKY_MS = 1_500;

type Tenant = Awaited<ReturnType<Session['newTenant']>>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Issue #17: the API's list and read routes on a streaming replica (DATABASE_REPLICA_URLS), on a
 * private primary + asynchronous replica. Two API instances on the same database stand for two
 * API processes behind a load balancer. Replay on the replica is paused to make it visibly stale.
 */
describe('scale: API reads from a PostgreSQL streaming replica', () => {
  let pair: PgPair;
  let db: TestDatabase;
  let apiA: TestApi;
  let apiB: TestApi;
  let replica: pg.Client;
  let tenant: Tenant;
  let other: Tenant;
  let onB: Client;

  beforeAll(async () => {
    pair = await startPgPair({ sync: false });
    const prisma = createPrismaClient({ url: pair.primaryUrl, poolSize: 2, applicationName: 'replica-test' });
    db = { name: 'mailroom', url: pair.primaryUrl, prisma, drop: () => prisma.$disconnect() };
    const shared = {
      MASTER_KEY: randomBytes(32).toString('hex'),
      DATABASE_REPLICA_URLS: pair.replicaUrl,
      DATABASE_REPLICA_MAX_LAG_MS: String(MAX_LAG_MS),
      DATABASE_REPLICA_STICKY_MS: String(STICKY_MS),
    };
    apiA = await startApi(db, shared);
    apiB = await startApi(db, shared);
    const session = await Session.create(apiA, db);
    const reseller = await session.newReseller();
    tenant = await session.newTenant(reseller);
    other = await session.newTenant(reseller);
    await addDomain(db, tenant.id, 'shop.example');
    onB = new Client(apiB, tenant.key.token);
    replica = new pg.Client({ connectionString: pair.replicaUrl });
    await replica.connect();
  });
  afterAll(async () => {
    await replica?.query('SELECT pg_wal_replay_resume()').catch(() => undefined);
    await replica?.end();
    await apiA?.close();
    await apiB?.close();
    await db?.drop();
    await pair?.stop();
  });

  const at = () => ({ params: { path: { tenantId: tenant.id } } });
  const create = (client: Client, localPart: string) =>
    client.typed.POST('/v1/tenants/{tenantId}/mailboxes', {
      ...at(),
      body: { localPart, domain: 'shop.example', password: GOOD },
    });
  const listed = async (client: Client) =>
    expectStatus(await client.typed.GET('/v1/tenants/{tenantId}/mailboxes', at()), 200).items.map((m) => m.localPart);
  const replicaUsable = (api: TestApi) => api.app.get(TenantDb).replicas!.states()[0]!.usable;
  const untilUsable = async (api: TestApi) => {
    const deadline = Date.now() + 20_000;
    while (!replicaUsable(api)) {
      if (Date.now() > deadline) throw new Error(JSON.stringify(api.app.get(TenantDb).replicas!.states()));
      await sleep(100);
    }
  };

  it('a client reads its own write at once: the tenant reads from the primary right after it wrote', async () => {
    await untilUsable(apiA);
    expectStatus(await create(tenant.key, 'alice'), 201);
    expect(await listed(tenant.key)).toContain('alice');
    const alice = (await tenant.key.typed.GET('/v1/tenants/{tenantId}/mailboxes', at())).data!.items[0]!;
    const one = await tenant.key.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
      params: { path: { tenantId: tenant.id, mailboxId: alice.id } },
    });
    expect(expectStatus(one, 200).localPart).toBe('alice');
  });

  it('reads with the same row-level security on the replica: another tenant sees none of these rows', async () => {
    await untilUsable(apiA);
    const tenantDb = apiA.app.get(TenantDb);
    await sleep(STICKY_MS + 100);
    // Straight through the replica pool, without the route's own tenant check: RLS alone decides.
    const seen = (tenantId: string) => tenantDb.tenantRead(tenantId, (tx) => tx.mailbox.count());
    expect(await seen(tenant.id)).toBeGreaterThan(0);
    expect(await seen(other.id)).toBe(0);
    // And it ran on the replica.
    const [where] = await tenantDb.tenantRead(other.id, (tx) =>
      tx.$queryRawUnsafe<{ standby: boolean }[]>('SELECT pg_is_in_recovery() AS standby'),
    );
    expect(where!.standby).toBe(true);
  });

  it('counts the read-your-writes window from the end of a write, however long the write took', async () => {
    await untilUsable(apiA);
    const tenantDb = apiA.app.get(TenantDb);
    await sleep(STICKY_MS + 100);
    const standby = async () =>
      (
        await tenantDb.tenantRead(tenant.id, (tx) =>
          tx.$queryRawUnsafe<{ standby: boolean }[]>('SELECT pg_is_in_recovery() AS standby'),
        )
      )[0]!.standby;
    expect(await standby()).toBe(true);
    // A unit of work on the primary that lasts longer than the window itself.
    await tenantDb.tenant(tenant.id, (tx) => tx.$queryRawUnsafe(`SELECT pg_sleep(${(STICKY_MS + 500) / 1000})::text`));
    expect(await standby()).toBe(false);
    await sleep(STICKY_MS + 100);
    expect(await standby()).toBe(true);
  });

  it('list routes read from the replica: a row written elsewhere is missing while replay is paused, then found on the primary once the replica lags past the bound', async () => {
    await untilUsable(apiA);
    await sleep(STICKY_MS + 100);
    // A fresh commit replayed, then replay paused: from here the replica falls behind.
    await db.prisma.$executeRawUnsafe('SELECT txid_current()');
    await sleep(200);
    await replica.query('SELECT pg_wal_replay_pause()');
    const paused = Date.now();
    // Another API process takes the write (its own reads would stay on the primary).
    const bob = expectStatus(await create(onB, 'bob'), 201);
    expect(await listed(onB)).toContain('bob');
    // This process has no write of this tenant in its window: its list comes from the replica.
    expect(await listed(tenant.key)).not.toContain('bob');
    // A get by id the replica cannot answer yet is answered by the primary: never a 404 for lag.
    const one = await tenant.key.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
      params: { path: { tenantId: tenant.id, mailboxId: bob.id } },
    });
    expect(expectStatus(one, 200).localPart).toBe('bob');
    expect(await listed(tenant.key)).not.toContain('bob');
    let found = 0;
    while (!found) {
      if ((await listed(tenant.key)).includes('bob')) found = Date.now();
      else await sleep(200);
      expect(Date.now() - paused).toBeLessThan(30_000);
    }
    // Found only once the replica's lag passed DATABASE_REPLICA_MAX_LAG_MS: the read moved to the primary.
    expect(found - paused).toBeGreaterThanOrEqual(MAX_LAG_MS - 500);
    expect(replicaUsable(apiA)).toBe(false);
    await replica.query('SELECT pg_wal_replay_resume()');
    await untilUsable(apiA);
    expect(await listed(tenant.key)).toContain('bob');
  });
});
