import type { Prisma, PrismaClient } from '@mailroom/db';

type Db = Prisma.TransactionClient | PrismaClient;

const TTL_MS = 30_000;

/**
 * A tenant's storage in use, for the tenant-wide plan limit. Summing every mailbox of a large
 * tenant on each message made inbound throughput fall with tenant size (bench/scale.mjs: half
 * the rate at 100,000 mailboxes), so the sum is taken at most every 30 s per tenant and this
 * process's own writes are added to it in between. The limit is a plan limit, not a mailbox
 * quota (those stay exact, by conditional update in the same transaction): a tenant may pass it
 * by what arrives on other processes within 30 s.
 */
export class TenantUsage {
  private readonly cache = new Map<string, { used: bigint; at: number }>();

  async used(db: Db, tenantId: string, now = Date.now()): Promise<bigint> {
    const hit = this.cache.get(tenantId);
    if (hit && now - hit.at < TTL_MS) return hit.used;
    const sum = await db.mailbox.aggregate({ where: { tenantId }, _sum: { usedBytes: true } });
    const used = sum._sum.usedBytes ?? 0n;
    this.cache.set(tenantId, { used, at: now });
    return used;
  }

  /** Counts bytes this process is storing, until the next refresh re-reads the truth. */
  add(tenantId: string, bytes: number): void {
    const hit = this.cache.get(tenantId);
    if (hit) hit.used += BigInt(bytes);
  }
}

/** One per process: every store and the MTA's recipient checks share it. */
export const tenantUsage = new TenantUsage();
