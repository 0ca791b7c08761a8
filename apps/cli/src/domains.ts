import { setTimeout as sleep } from 'node:timers/promises';
import type { Config } from '@mailroom/config';
import { NotFound } from '@mailroom/core';
import { inTransaction, type Db } from '@mailroom/db';
import { createNodeResolver, renderBindZone } from '@mailroom/dns';
import { addDomain, planForDomain, platformDnsFromConfig, runDomainCheck } from '@mailroom/onboarding';
import { createRedis, JobName, JobProducer } from '@mailroom/queue';
import { CliRepository } from './cli.repository';

export interface Out {
  out(line: string): void;
  err(line: string): void;
}

async function findTenant(repo: CliRepository, ref: string) {
  const tenant = await repo.findTenant(/^[0-9a-f-]{36}$/i.test(ref) ? { id: ref } : { name: ref });
  if (!tenant) throw new NotFound(`No tenant ${ref} (give its id or its exact name).`);
  return tenant;
}

async function findDomain(db: Db, name: string) {
  const domain = await new CliRepository(db).findDomainByName(name.trim().toLowerCase().replace(/\.$/, ''));
  if (!domain) throw new NotFound(`No domain ${name} on this platform.`);
  return domain;
}

/** `domain:add <tenant> <domain> [--alias-of D]`: prints the id, then the zone to publish. */
export async function domainAdd(
  db: Db,
  config: Config,
  io: Out,
  tenantRef: string,
  name: string,
  aliasOf?: string,
): Promise<number> {
  const tenant = await findTenant(new CliRepository(db), tenantRef);
  const platform = platformDnsFromConfig(config);
  const { domain } = await inTransaction(db, (tx) =>
    addDomain(tx, platform, config.MASTER_KEY, { tenantId: tenant.id, name, aliasOf }),
  );
  io.out(`added ${domain.name} (${domain.id}) to tenant ${tenant.name}; status ${domain.status}`);
  io.out('publish these records, then run: npm run cli -- domain:verify ' + domain.name + ' --wait');
  io.out(await domainZoneText(db, config, domain.name));
  return 0;
}

async function domainZoneText(db: Db, config: Config, name: string): Promise<string> {
  const domain = await findDomain(db, name);
  return renderBindZone(planForDomain(platformDnsFromConfig(config), domain, domain.dkimKeys, domain.dnsChecks));
}

/** `domain:zone <domain>`: the BIND zone fragment, ready to paste. */
export async function domainZone(db: Db, config: Config, io: Out, name: string): Promise<number> {
  io.out(await domainZoneText(db, config, name));
  return 0;
}

/**
 * `domain:verify <domain> [--wait] [--timeout S] [--interval S]`: checks the DNS now (through
 * DNS_SERVERS), prints each record that is not right, and exits 0 once the domain is active;
 * with --wait it checks again every interval until then or until the timeout (exit 1).
 */
export async function domainVerify(
  db: Db,
  config: Config,
  io: Out,
  name: string,
  options: { wait: boolean; timeoutSeconds: number; intervalSeconds: number },
): Promise<number> {
  const platform = platformDnsFromConfig(config);
  const resolver = createNodeResolver(config.DNS_SERVERS, config.DNS_TIMEOUT_MS);
  const deadline = Date.now() + options.timeoutSeconds * 1000;
  const redis = createRedis(config, 'client');
  redis.on('error', () => undefined);
  const producer = new JobProducer(redis, config.QUEUE_PREFIX);
  try {
    for (;;) {
      const domain = await findDomain(db, name);
      const outcome = await runDomainCheck(
        db,
        platform,
        resolver,
        { tenantId: domain.tenantId, domainId: domain.id },
        {
          intervalMinutes: config.DNS_CHECK_INTERVAL_MINUTES,
          dkimGraceDays: config.DKIM_ROTATION_GRACE_DAYS,
        },
      );
      if (!outcome) {
        io.err(`${domain.name} is ${domain.status}: not checked`);
        return 1;
      }
      for (const id of outcome.webhookDeliveryIds) {
        // Redis down: the worker's sweeper sends these later.
        await producer
          .add(JobName.WebhookDeliver, { tenantId: domain.tenantId, webhookDeliveryId: id })
          .catch(() => undefined);
      }
      const failing = outcome.results.filter((r) => r.status !== 'ok');
      io.out(`${domain.name}: ${outcome.status}`);
      if (outcome.status === 'active') return 0;
      if (!options.wait || Date.now() + options.intervalSeconds * 1000 > deadline) {
        for (const r of failing) io.err(`  ${r.status.padEnd(8)} ${r.type.padEnd(5)} ${r.name}: ${r.message}`);
        return 1;
      }
      await sleep(options.intervalSeconds * 1000);
    }
  } finally {
    await producer.close();
    redis.disconnect();
  }
}
