import type { PrismaClient } from '@mailroom/db';

const BATCH = 1_000;

/** Tables with rows that carry their own expiry (`expires_at`). */
export type ExpiringTable = 'refresh_tokens' | 'idempotency_keys' | 'greylist';

/**
 * Deletes of platform-wide housekeeping rows, across tenants (the worker's system role). Every
 * delete runs BATCH rows a statement, each batch its own transaction, so a backlog of millions
 * never holds locks for long and a killed run resumes.
 */
export class CleanupRepository {
  constructor(private readonly prisma: PrismaClient) {}

  deleteExpired(table: ExpiringTable): Promise<number> {
    return this.deleteWhere(table, `"expires_at" < now()`);
  }

  deleteDeliveryEventsOlderThan(days: number): Promise<number> {
    return this.deleteWhere('delivery_events', olderThan('created_at', days));
  }

  /** Pending ones stay whatever their age: the sweep still owes them a send. */
  deleteFinishedWebhookDeliveriesOlderThan(days: number): Promise<number> {
    return this.deleteWhere('webhook_deliveries', `status <> 'pending' AND ${olderThan('created_at', days)}`);
  }

  deleteFinishedJobRunsOlderThan(days: number): Promise<number> {
    return this.deleteWhere('job_runs', `status <> 'running' AND ${olderThan('started_at', days)}`);
  }

  private async deleteWhere(table: string, where: string): Promise<number> {
    let total = 0;
    for (;;) {
      // Table names and conditions come from the methods above (days are integers), never from input.
      const deleted = await this.prisma.$executeRawUnsafe(
        `DELETE FROM "${table}" WHERE ctid IN (SELECT ctid FROM "${table}" WHERE ${where} LIMIT ${BATCH})`,
      );
      total += deleted;
      if (deleted < BATCH) return total;
    }
  }
}

function olderThan(column: string, days: number): string {
  return `"${column}" < now() - make_interval(days => ${Math.trunc(days)})`;
}
