import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  createPrismaClient,
  refuseUnreplicatedCommits,
  UnreplicatedCommitError,
  type PrismaClient,
} from '@mailroom/db';
import { startPgPair, type PgPair } from '@test/support/pg-replica';

/**
 * Issue #17: with synchronous replication and its only standby down, a commit waits (PostgreSQL
 * does not apply statement_timeout to that wait: it waits until a standby confirms). When the
 * wait is cancelled (pg_cancel_backend, a pooler or an operator's cancel request), PostgreSQL
 * has committed on the primary and answers with a WARNING only. The apps' pool
 * (createPrismaClient) turns that into an error, so the MTA never answers 250 for a message a
 * failover could lose.
 */
describe('scale: a commit not confirmed by the synchronous standby fails', () => {
  let pair: PgPair;
  let prisma: PrismaClient;
  let admin: pg.Client;

  beforeAll(async () => {
    pair = await startPgPair({ sync: true });
    prisma = createPrismaClient({ url: pair.primaryUrl, poolSize: 2, applicationName: 'sync-commit-test' });
    admin = new pg.Client({ connectionString: pair.primaryUrl });
    await admin.connect();
    await admin.query("SET synchronous_commit = 'local'");
    await admin.query('CREATE TABLE sync_commit_probe (id int PRIMARY KEY)');
  }, 180_000);
  afterAll(async () => {
    await admin?.end();
    await prisma?.$disconnect();
    await pair?.stop();
  });

  /** Cancels the backends waiting for the standby once `count` of them wait; resolves with their pids. */
  const cancelSyncRepWaits = async (count: number): Promise<number[]> => {
    for (let i = 0; i < 200; i++) {
      const { rows } = await admin.query<{ pid: number }>(
        "SELECT pid FROM pg_stat_activity WHERE wait_event = 'SyncRep' ORDER BY pid",
      );
      if (rows.length >= count) {
        for (const { pid } of rows) await admin.query('SELECT pg_cancel_backend($1)', [pid]);
        return rows.map((r) => r.pid);
      }
      await new Promise((r) => setTimeout(r, 50));
    }
    throw new Error('no commit waited for the standby');
  };
  const rows = async () =>
    (await admin.query<{ id: number }>('SELECT id FROM sync_commit_probe ORDER BY id')).rows.map((r) => r.id);

  it('commits normally while the standby is up; once it is down, a cancelled wait is an error, not a commit', async () => {
    await prisma.$executeRawUnsafe('INSERT INTO sync_commit_probe VALUES (1)');
    expect(await rows()).toEqual([1]);

    await pair.stopReplica();
    // An interactive transaction: Prisma's COMMIT waits for the standby until it is cancelled.
    const tx = prisma.$transaction(
      async (t) => {
        await t.$executeRawUnsafe('INSERT INTO sync_commit_probe VALUES (2)');
      },
      { timeout: 30_000 },
    );
    const settled = tx.then(
      () => null,
      (err: unknown) => err,
    );
    await cancelSyncRepWaits(1);
    expect(String(await settled)).toMatch(/not confirmed by a synchronous standby/);

    // Autocommit statements (the named statements' path), promise and callback forms, on a pool
    // guarded as createPrismaClient guards its own.
    const pool = new pg.Pool({ connectionString: pair.primaryUrl, max: 1 });
    refuseUnreplicatedCommits(pool);
    const client = await pool.connect();
    try {
      const viaPromise = client.query('INSERT INTO sync_commit_probe VALUES (3)').then(
        () => null,
        (err: unknown) => err,
      );
      await cancelSyncRepWaits(1);
      expect(await viaPromise).toBeInstanceOf(UnreplicatedCommitError);
      const viaCallback = new Promise<Error | null>((resolve) =>
        client.query('INSERT INTO sync_commit_probe VALUES (4)', (err: Error | null) => resolve(err)),
      );
      await cancelSyncRepWaits(1);
      expect(await viaCallback).toBeInstanceOf(UnreplicatedCommitError);
      // The next statement on the same connection is not blamed for it.
      await expect(client.query('SELECT 1 AS one')).resolves.toMatchObject({ rows: [{ one: 1 }] });
    } finally {
      client.release(true);
      await pool.end();
    }
    // What the error means: PostgreSQL did commit them on the primary; no standby has them.
    expect(await rows()).toEqual([1, 2, 3, 4]);
  }, 90_000);
});
