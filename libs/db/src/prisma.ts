import { PrismaPg } from '@prisma/adapter-pg';
import pg from 'pg';
import { combineBeginWithFirstStatement } from './combined-begin';
import { refuseUnreplicatedCommits } from './sync-commit-guard';
import { PrismaClient } from './generated/client';
import { poolOf, registerPool } from './statements';

export interface DbOptions {
  url: string;
  poolSize?: number;
  /** Shown in pg_stat_activity, so an operator sees which app holds a connection. */
  applicationName?: string;
  /**
   * Send a transaction's BEGIN with its first statement when that has no parameters (one round
   * trip instead of two; see combineBeginWithFirstStatement). The API sets it: its tenant scope
   * opens with a parameterless RLS setup.
   */
  combineBegin?: boolean;
}

/**
 * A Prisma client over node-postgres (Prisma 7 runs queries through the pg driver adapter). The
 * pg.Pool is ours, so the named statements of the hot paths (statements.ts) run on the same
 * connections: one pool of `poolSize`, closed with the client.
 */
export function createPrismaClient({
  url,
  poolSize = 10,
  applicationName = 'mailroom',
  combineBegin = false,
}: DbOptions): PrismaClient {
  const pool = new pg.Pool({
    connectionString: url,
    max: poolSize,
    application_name: applicationName,
    connectionTimeoutMillis: 5_000,
    // A statement that runs longer than this is a bug or a lock pile-up; fail it rather than
    // hold a connection (and an SMTP session) forever.
    statement_timeout: 60_000,
  });
  // An idle connection that breaks (PostgreSQL restarted) is dropped by the pool; without a
  // listener its 'error' event would end the process.
  pool.on('error', () => undefined);
  // With synchronous replication, a commit whose wait for the standby was cancelled (a cancel
  // request: statement_timeout does not end that wait) returns with only a warning; it fails here
  // instead, so no 250 is given for a message that a failover could lose (docs/scaling.md).
  refuseUnreplicatedCommits(pool);
  if (combineBegin) combineBeginWithFirstStatement(pool);
  const adapter = new PrismaPg(pool, { disposeExternalPool: true });
  const client = new PrismaClient({ adapter });
  registerPool(client, pool);
  return client;
}

/** True when the database answers a trivial query within `timeoutMs`. */
export async function pingDatabase(prisma: PrismaClient, timeoutMs = 2_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  // On the pool when there is one: a health check alone must not load Prisma's query compiler
  // into an app whose own queries never need it (the MTA's inbound path).
  const pool = poolOf(prisma);
  const ping = (pool ? pool.query('SELECT 1') : prisma.$queryRaw`SELECT 1`).then(
    () => true,
    () => false,
  );
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
