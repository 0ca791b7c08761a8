import { JobName } from '@mailroom/queue';
import { MailStore } from '@mailroom/mailstore';
import { recordRun, type MaintenanceContext, type RunJob } from './job-run';

/** Mailboxes summed per step; their messages are read, not locked. */
const PAGE = 200;

/**
 * Recomputes every mailbox's used_bytes and message_count from its message rows (hidden ones
 * included: they still take storage) and repairs drift. Sums are read without locks; only a
 * mailbox that looks off is then locked (FOR UPDATE, which waits for in-flight deliveries to it)
 * and summed again, so a delivery committing meanwhile is never mistaken for drift and a
 * repair never loses a concurrent write.
 */
export async function runQuotaRecount(ctx: MaintenanceContext, job: RunJob) {
  const store = new MailStore(ctx.prisma);
  return recordRun(ctx, JobName.QuotaRecount, job, async (run) => {
    const stats = { mailboxes: 0, drifted: 0, driftBytes: 0, driftMessages: 0 };
    let cursor = {
      tenantId: '00000000-0000-0000-0000-000000000000',
      mailboxId: '00000000-0000-0000-0000-000000000000',
    };
    for (;;) {
      const page = await store.usagePage(cursor, PAGE);
      if (page.length === 0) break;
      stats.mailboxes += page.length;
      ctx.metrics.examined.inc({ job: JobName.QuotaRecount }, page.length);
      const suspects = page.filter((p) => p.usedBytes !== p.countedBytes || p.messageCount !== p.countedMessages);
      for (const m of suspects) {
        // Drift is stored minus counted: positive when the mailbox was charged for more than it holds.
        const fixed = await store.repairUsage(m.tenantId, m.mailboxId);
        if (!fixed) continue;
        stats.drifted++;
        stats.driftBytes += Math.abs(fixed.bytes);
        stats.driftMessages += Math.abs(fixed.messages);
        ctx.metrics.driftBytes.inc({ job: JobName.QuotaRecount }, Math.abs(fixed.bytes));
        ctx.logger?.warn(
          { tenantId: m.tenantId, mailboxId: m.mailboxId, driftBytes: fixed.bytes, driftMessages: fixed.messages },
          'quota drift repaired',
        );
      }
      const last = page[page.length - 1]!;
      cursor = { tenantId: last.tenantId, mailboxId: last.mailboxId };
      await run.progress(stats);
      if (page.length < PAGE) break;
    }
    return stats;
  });
}
