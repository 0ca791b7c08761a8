import type { PrismaClient } from '@mailroom/db';

export interface DueDomain {
  tenantId: string;
  domainId: string;
}

/** The worker's reads and writes of the domain re-check schedule, across tenants. */
export class DomainCheckRepository {
  constructor(private readonly prisma: PrismaClient) {}

  /**
   * Claims up to `limit` domains whose check is due, oldest first, and moves their next check
   * `intervalMinutes` forward, so a slow queue does not queue them again every minute.
   */
  async claimDue(intervalMinutes: number, limit: number): Promise<DueDomain[]> {
    const rows = await this.prisma.$queryRaw<{ tenant_id: string; id: string }[]>`
      UPDATE domains SET next_check_at = now() + make_interval(mins => ${intervalMinutes})
      WHERE (tenant_id, id) IN (
        SELECT tenant_id, id FROM domains
        WHERE deleted_at IS NULL AND status <> 'suspended' AND next_check_at <= now()
        ORDER BY next_check_at LIMIT ${limit}
        FOR UPDATE SKIP LOCKED)
      RETURNING tenant_id, id`;
    return rows.map((r) => ({ tenantId: r.tenant_id, domainId: r.id }));
  }
}
