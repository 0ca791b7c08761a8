import type { Config } from '@mailroom/config';
import type { PrismaClient } from '@mailroom/db';
import type { DnsResolver } from '@mailroom/dns';
import { platformDnsFromConfig, runDomainCheck } from '@mailroom/onboarding';
import { JobName, type JobProducer } from '@mailroom/queue';
import type { JobHandlers } from '../job-handler';

const DUE_BATCH = 1_000;

export function domainHandlers(
  prisma: PrismaClient,
  config: Config,
  resolver: DnsResolver,
  producer: JobProducer,
): Pick<JobHandlers, JobName.DomainCheck | JobName.DomainCheckDue> {
  const platform = platformDnsFromConfig(config);
  return {
    [JobName.DomainCheck]: async (payload) => {
      const outcome = await runDomainCheck(prisma, platform, resolver, payload, {
        intervalMinutes: config.DNS_CHECK_INTERVAL_MINUTES,
        dkimGraceDays: config.DKIM_ROTATION_GRACE_DAYS,
      });
      if (!outcome) return { skipped: true };
      for (const id of outcome.webhookDeliveryIds) {
        await producer.add(JobName.WebhookDeliver, { tenantId: payload.tenantId, webhookDeliveryId: id });
      }
      return {
        from: outcome.previous,
        to: outcome.status,
        failing: outcome.results.filter((r) => r.status !== 'ok').length,
      };
    },

    /**
     * The periodic re-check: queues every domain whose check is due, oldest first, and moves
     * its next check forward so a slow queue does not queue it again every minute.
     */
    [JobName.DomainCheckDue]: async () => {
      const due = await prisma.$queryRaw<{ tenant_id: string; id: string }[]>`
        UPDATE domains SET next_check_at = now() + make_interval(mins => ${config.DNS_CHECK_INTERVAL_MINUTES})
        WHERE (tenant_id, id) IN (
          SELECT tenant_id, id FROM domains
          WHERE deleted_at IS NULL AND status <> 'suspended' AND next_check_at <= now()
          ORDER BY next_check_at LIMIT ${DUE_BATCH}
          FOR UPDATE SKIP LOCKED)
        RETURNING tenant_id, id`;
      for (const d of due) await producer.add(JobName.DomainCheck, { tenantId: d.tenant_id, domainId: d.id });
      return { queued: due.length };
    },
  };
}
