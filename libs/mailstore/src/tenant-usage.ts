import { defineStatement, type Prisma, type PrismaClient } from '@mailroom/db';

type Db = Prisma.TransactionClient | PrismaClient;

/**
 * A named statement, not a Prisma query: on a root client it runs on the pool, so an MTA whose
 * inbound path makes no other Prisma query never loads Prisma's query compiler (~30 MB of RSS).
 */
const TENANT_USED = defineStatement<{ used: bigint }, [string]>(
  'tenant_used_bytes',
  'SELECT coalesce(sum(used_bytes), 0)::int8 AS used FROM mailboxes WHERE tenant_id = $1::uuid',
);

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
    const [row] = await TENANT_USED.run(db, [tenantId]);
    const used = row?.used ?? 0n;
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
