import type { PrismaClient } from '@mailroom/db';
import { JobName } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';
import type { MaintenanceMetrics } from '../maintenance/job-run';

const BATCH = 1_000;

/**
 * How long history is kept. Fixed here until libs/config has settings for them
 * (DELIVERY_EVENT_RETENTION_DAYS, WEBHOOK_LOG_RETENTION_DAYS, JOB_RUN_RETENTION_DAYS).
 */
export const HISTORY_DAYS = { deliveryEvents: 90, webhookDeliveries: 30, jobRuns: 90 } as const;

/**
 * Deletes rows of `table` matching `where` (a constant condition), BATCH rows a statement, each
 * batch its own transaction, so a backlog of millions never holds locks for long and a killed
 * run resumes.
 */
async function deleteWhere(prisma: PrismaClient, table: string, where: string): Promise<number> {
  let total = 0;
  for (;;) {
    // Identifiers and conditions come from the constants below, never from input.
    const deleted = await prisma.$executeRawUnsafe(
      `DELETE FROM "${table}" WHERE ctid IN (SELECT ctid FROM "${table}" WHERE ${where} LIMIT ${BATCH})`,
    );
    total += deleted;
    if (deleted < BATCH) return total;
  }
}

const deleteExpired = (prisma: PrismaClient, table: string, column: string) =>
  deleteWhere(prisma, table, `"${column}" < now()`);

const olderThan = (column: string, days: number) => `"${column}" < now() - interval '${days} days'`;

export function maintenanceHandlers(
  prisma: PrismaClient,
  metrics?: MaintenanceMetrics,
): Pick<JobHandlers, JobName.CleanupExpired | JobName.CleanupHistory> {
  const count = (table: string, n: number) => {
    metrics?.deleted.inc({ job: JobName.CleanupHistory, table }, n);
    return n;
  };
  return {
    [JobName.CleanupExpired]: async () => {
      const refreshTokens = await deleteExpired(prisma, 'refresh_tokens', 'expires_at');
      const idempotencyKeys = await deleteExpired(prisma, 'idempotency_keys', 'expires_at');
      const greylist = await deleteExpired(prisma, 'greylist', 'expires_at');
      return { refreshTokens, idempotencyKeys, greylist };
    },

    /** Delivery events and finished webhook deliveries past their age, and old job runs. */
    [JobName.CleanupHistory]: async () => {
      const deliveryEvents = count(
        'delivery_events',
        await deleteWhere(prisma, 'delivery_events', olderThan('created_at', HISTORY_DAYS.deliveryEvents)),
      );
      const webhookDeliveries = count(
        'webhook_deliveries',
        await deleteWhere(
          prisma,
          'webhook_deliveries',
          `status <> 'pending' AND ${olderThan('created_at', HISTORY_DAYS.webhookDeliveries)}`,
        ),
      );
      const jobRuns = count(
        'job_runs',
        await deleteWhere(
          prisma,
          'job_runs',
          `status <> 'running' AND ${olderThan('started_at', HISTORY_DAYS.jobRuns)}`,
        ),
      );
      return { deliveryEvents, webhookDeliveries, jobRuns };
    },
  };
}
