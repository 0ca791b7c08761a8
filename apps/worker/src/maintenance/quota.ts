import { JobName } from '@mailroom/queue';
import { recordRun, type MaintenanceContext, type RunJob } from './job-run';

/** Mailboxes summed per step; their messages are read, not locked. */
const PAGE = 200;

interface Usage {
  tenant_id: string;
  id: string;
  used_bytes: bigint;
  message_count: number;
  bytes: bigint;
  n: number;
}

/**
 * Recomputes every mailbox's used_bytes and message_count from its message rows (hidden ones
 * included: they still take storage) and repairs drift. Sums are read without locks; only a
 * mailbox that looks off is then locked (FOR UPDATE, which waits for in-flight deliveries to it)
 * and summed again, so a delivery committing meanwhile is never mistaken for drift and a
 * repair never loses a concurrent write.
 */
export async function runQuotaRecount(ctx: MaintenanceContext, job: RunJob) {
  return recordRun(ctx, JobName.QuotaRecount, job, async (run) => {
    const stats = { mailboxes: 0, drifted: 0, driftBytes: 0, driftMessages: 0 };
    let cursor = { tenant: '00000000-0000-0000-0000-000000000000', id: '00000000-0000-0000-0000-000000000000' };
    for (;;) {
      const page = await ctx.prisma.$queryRaw<Usage[]>`
        SELECT mb.tenant_id, mb.id, mb.used_bytes, mb.message_count,
          COALESCE(s.bytes, 0)::bigint AS bytes, COALESCE(s.n, 0)::int AS n
        FROM (SELECT tenant_id, id, used_bytes, message_count FROM mailboxes
              WHERE (tenant_id, id) > (${cursor.tenant}::uuid, ${cursor.id}::uuid)
              ORDER BY tenant_id, id LIMIT ${PAGE}) mb
        LEFT JOIN LATERAL (
          SELECT sum(size) AS bytes, count(*) AS n FROM messages m
          WHERE m.tenant_id = mb.tenant_id AND m.mailbox_id = mb.id) s ON true
        ORDER BY mb.tenant_id, mb.id`;
      if (page.length === 0) break;
      stats.mailboxes += page.length;
      ctx.metrics.examined.inc({ job: JobName.QuotaRecount }, page.length);
      for (const m of page.filter((p) => p.used_bytes !== p.bytes || p.message_count !== p.n)) {
        const fixed = await repair(ctx, m.tenant_id, m.id);
        if (!fixed) continue;
        stats.drifted++;
        stats.driftBytes += Math.abs(fixed.bytes);
        stats.driftMessages += Math.abs(fixed.messages);
        ctx.metrics.driftBytes.inc({ job: JobName.QuotaRecount }, Math.abs(fixed.bytes));
        ctx.logger?.warn(
          { tenantId: m.tenant_id, mailboxId: m.id, driftBytes: fixed.bytes, driftMessages: fixed.messages },
          'quota drift repaired',
        );
      }
      const last = page[page.length - 1]!;
      cursor = { tenant: last.tenant_id, id: last.id };
      await run.progress(stats);
      if (page.length < PAGE) break;
    }
    return stats;
  });
}

/** Drift is stored minus counted: positive when the mailbox was charged for more than it holds. */
async function repair(ctx: MaintenanceContext, tenantId: string, id: string) {
  return ctx.prisma.$transaction(async (tx) => {
    const [m] = await tx.$queryRaw<Usage[]>`
      SELECT tenant_id, id, used_bytes, message_count, 0::bigint AS bytes, 0 AS n
      FROM mailboxes WHERE tenant_id = ${tenantId}::uuid AND id = ${id}::uuid FOR UPDATE`;
    if (!m) return null;
    const [s] = await tx.$queryRaw<{ bytes: bigint; n: number }[]>`
      SELECT COALESCE(sum(size), 0)::bigint AS bytes, count(*)::int AS n
      FROM messages WHERE tenant_id = ${tenantId}::uuid AND mailbox_id = ${id}::uuid`;
    if (!s || (s.bytes === m.used_bytes && s.n === m.message_count)) return null;
    await tx.$executeRaw`
      UPDATE mailboxes SET used_bytes = ${s.bytes}, message_count = ${s.n}, updated_at = now()
      WHERE tenant_id = ${tenantId}::uuid AND id = ${id}::uuid`;
    return { bytes: Number(m.used_bytes - s.bytes), messages: m.message_count - s.n };
  });
}
