import type { PrismaClient } from '@mailroom/db';
import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';

const BATCH = 1_000;

/**
 * Deletes rows of `table` whose `column` is in the past, BATCH rows a statement, each batch its
 * own transaction, so a backlog of millions never holds locks for long and a killed run resumes.
 */
async function deleteExpired(prisma: PrismaClient, table: string, column: string): Promise<number> {
  let total = 0;
  for (;;) {
    // Identifiers come from the constant list below, never from input.
    const deleted = await prisma.$executeRawUnsafe(
      `DELETE FROM "${table}" WHERE ctid IN (SELECT ctid FROM "${table}" WHERE "${column}" < now() LIMIT ${BATCH})`,
    );
    total += deleted;
    if (deleted < BATCH) return total;
  }
}

export function maintenanceHandlers(prisma: PrismaClient): Pick<JobHandlers, JobName.CleanupExpired> {
  return {
    [JobName.CleanupExpired]: async () => {
      const refreshTokens = await deleteExpired(prisma, 'refresh_tokens', 'expires_at');
      const idempotencyKeys = await deleteExpired(prisma, 'idempotency_keys', 'expires_at');
      const greylist = await deleteExpired(prisma, 'greylist', 'expires_at');
      return { refreshTokens, idempotencyKeys, greylist };
    },
  };
}
