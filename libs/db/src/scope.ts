import { Prisma, type PrismaClient } from './generated/client';
import { createPrismaClient, type DbOptions } from './prisma';

/**
 * The root database handle of an app (no transaction; the app's own role, so no row-level
 * security). Outside repositories it is only passed on: the lint rule keeps queries in
 * `*.repository.ts`.
 */
export type Db = PrismaClient;

/**
 * An open transaction, handed by a unit of work (the API's `TenantDb`, `inTransaction`) to
 * repository methods. Outside repositories it is only passed on, never queried.
 */
export type Tx = Prisma.TransactionClient;

/** A JSON value as a repository stores it in a jsonb column. */
export type JsonValue = Prisma.InputJsonValue;

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Opens the root handle of an app (see `createPrismaClient`). */
export function openDatabase(options: DbOptions): Db {
  return createPrismaClient(options);
}

/** Closes the root handle's connection pool. */
export async function closeDatabase(db: Db): Promise<void> {
  await db.$disconnect();
}

/** Runs `work` in one transaction with the app's own role. */
export function inTransaction<T>(db: Db, work: (tx: Tx) => Promise<T>): Promise<T> {
  return db.$transaction((tx) => work(tx));
}

/**
 * Runs `work` in one transaction as the role mailroom_api with `app.tenant_id` set, so
 * PostgreSQL row-level security shows and accepts only that tenant's rows whatever a query says.
 * Both settings are LOCAL: they end with the transaction, so a pooled connection never keeps them.
 */
export function inTenantScope<T>(db: Db, tenantId: string, work: (tx: Tx) => Promise<T>): Promise<T> {
  if (!UUID.test(tenantId)) throw new Error('tenant scope needs a tenant id');
  return db.$transaction(async (tx) => {
    // One statement for both: set_config('role', …, true) is SET LOCAL ROLE. Without parameters
    // (the id is a checked UUID, so the literal is safe), so a client made with combineBegin
    // sends it in the same round trip as BEGIN.
    await tx.$executeRawUnsafe(
      `SELECT set_config('role', 'mailroom_api', true), set_config('app.tenant_id', '${tenantId}', true)`,
    );
    return work(tx);
  });
}

/** True for a unique-constraint violation (Prisma P2002): the row exists already. */
export function isUniqueViolation(err: unknown): boolean {
  return err instanceof Prisma.PrismaClientKnownRequestError && err.code === 'P2002';
}
