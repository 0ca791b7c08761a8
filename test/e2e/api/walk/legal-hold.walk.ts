import { JobName } from '@mailroom/queue';
import type { WalkModule } from './walk.types';
import { victimMailbox } from './mail-fixtures';

const T = '/v1/tenants/{tenantId}';

/** Legal hold of a tenant and of its mailboxes; retention runs; running scheduled jobs. */
export const walk: WalkModule = {
  async setup(ctx) {
    const { mailboxId } = await victimMailbox(ctx);
    await ctx.db.prisma.jobRun.create({
      data: { name: JobName.RetentionRun, tenantId: ctx.victim.id, status: 'succeeded', stats: { messagesDeleted: 3 } },
    });
    return { mailboxId, jobName: JobName.RetentionRun };
  },
  bodies: {
    [`PUT ${T}/legal-hold`]: { reason: 'walk' },
    [`PUT ${T}/mailboxes/{mailboxId}/legal-hold`]: { reason: 'walk' },
    'POST /v1/admin/jobs/{jobName}/run': {},
  },
};
