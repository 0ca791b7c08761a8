import type { Config } from '@mailroom/config';
import type { Db } from '@mailroom/db';
import type { DnsResolver } from '@mailroom/dns';
import { platformDnsFromConfig, runDomainCheck } from '@mailroom/onboarding';
import { JobName, type JobProducer } from '@mailroom/queue';
import { DomainCheckRepository } from '../domains/domain-check.repository';
import type { JobHandlers } from '../job-handler';

const DUE_BATCH = 1_000;

export function domainHandlers(
  prisma: Db,
  config: Config,
  resolver: DnsResolver,
  producer: JobProducer,
): Pick<JobHandlers, JobName.DomainCheck | JobName.DomainCheckDue> {
  const platform = platformDnsFromConfig(config);
  const domains = new DomainCheckRepository(prisma);
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

    /** The periodic re-check: queues every domain whose check is due (see claimDue). */
    [JobName.DomainCheckDue]: async () => {
      const due = await domains.claimDue(config.DNS_CHECK_INTERVAL_MINUTES, DUE_BATCH);
      for (const d of due) await producer.add(JobName.DomainCheck, d);
      return { queued: due.length };
    },
  };
}
