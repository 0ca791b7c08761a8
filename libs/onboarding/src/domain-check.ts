import { checkDomainDns, nextDomainStatus, type DnsCheckResult, type DnsResolver } from '@mailroom/dns';
import type { DkimKey, Domain, DomainStatus, Prisma, PrismaClient } from '@mailroom/db';
import { recordEvent } from '@mailroom/webhooks';
import { planForDomain, type PlatformDns } from './platform-dns';

export interface DomainCheckOutcome {
  domain: Domain;
  previous: DomainStatus;
  status: DomainStatus;
  results: DnsCheckResult[];
  /** Webhook deliveries recorded for a status change, to queue after commit. */
  webhookDeliveryIds: string[];
}

export interface DomainCheckOptions {
  intervalMinutes: number;
  dkimGraceDays: number;
  now?: Date;
}

/**
 * Checks every record of a domain's DNS plan through `resolver`, stores the result per record,
 * moves the domain along its lifecycle, activates a DKIM key once its record is seen (retiring
 * the one it replaces after a grace period), and records a webhook event when the status
 * changes. Safe to run twice at once: the status moves by compare-and-set, and the second run
 * only rewrites the same check rows.
 */
export async function runDomainCheck(
  prisma: PrismaClient,
  platform: PlatformDns,
  resolver: DnsResolver,
  ids: { tenantId: string; domainId: string },
  options: DomainCheckOptions,
): Promise<DomainCheckOutcome | null> {
  const now = options.now ?? new Date();
  const domain = await prisma.domain.findUnique({
    where: { tenantId_id: { tenantId: ids.tenantId, id: ids.domainId } },
    include: { dkimKeys: true, dnsChecks: true },
  });
  if (!domain || domain.deletedAt || domain.status === 'suspended') return null;
  const plan = planForDomain(platform, domain, domain.dkimKeys, domain.dnsChecks);
  const results = await checkDomainDns(plan, resolver, { spfInclude: platform.spfInclude });
  const status = nextDomainStatus(domain.status, results);

  return prisma.$transaction(async (tx) => {
    await storeResults(tx, domain, results, now);
    await rotateKeys(tx, domain.dkimKeys, results, now, options.dkimGraceDays);
    const changed = status !== domain.status;
    const updated = await tx.domain.updateMany({
      where: { tenantId: domain.tenantId, id: domain.id, status: domain.status },
      data: {
        status,
        lastCheckedAt: now,
        nextCheckAt: new Date(now.getTime() + options.intervalMinutes * 60_000),
        ...(changed && (status === 'verified' || status === 'active') && !domain.verifiedAt ? { verifiedAt: now } : {}),
        ...(changed && status === 'active' && !domain.activatedAt ? { activatedAt: now } : {}),
      },
    });
    let webhookDeliveryIds: string[] = [];
    if (changed && updated.count === 1) {
      webhookDeliveryIds = await recordEvent(tx, domain.tenantId, 'domain.status_changed', {
        domainId: domain.id,
        domain: domain.name,
        from: domain.status,
        to: status,
        failing: results
          .filter((r) => r.required && r.status !== 'ok')
          .map((r) => ({ key: r.key, status: r.status, message: r.message })),
      });
    }
    const fresh = await tx.domain.findUniqueOrThrow({
      where: { tenantId_id: { tenantId: domain.tenantId, id: domain.id } },
    });
    return { domain: fresh, previous: domain.status, status: fresh.status, results, webhookDeliveryIds };
  });
}

async function storeResults(
  tx: Prisma.TransactionClient,
  domain: Domain & { dnsChecks: { recordKey: string; status: string }[] },
  results: DnsCheckResult[],
  now: Date,
) {
  const before = new Map(domain.dnsChecks.map((c) => [c.recordKey, c.status]));
  for (const r of results) {
    const data = {
      type: r.type,
      name: r.name,
      expected: r.expected,
      found: r.found,
      status: r.status,
      message: r.message,
      checkedAt: now,
      ...(before.get(r.key) !== r.status ? { changedAt: now } : {}),
    };
    await tx.dnsCheck.upsert({
      where: { tenantId_domainId_recordKey: { tenantId: domain.tenantId, domainId: domain.id, recordKey: r.key } },
      create: { tenantId: domain.tenantId, domainId: domain.id, recordKey: r.key, ...data, changedAt: now },
      update: data,
    });
  }
  // Records no longer in the plan (a retired DKIM key) stop being reported.
  await tx.dnsCheck.deleteMany({
    where: { tenantId: domain.tenantId, domainId: domain.id, recordKey: { notIn: results.map((r) => r.key) } },
  });
}

/**
 * A pending key whose record is published becomes the signing key; the key it replaces keeps
 * its record for `graceDays` (mail signed with it is still in flight), then retires.
 */
async function rotateKeys(
  tx: Prisma.TransactionClient,
  keys: DkimKey[],
  results: DnsCheckResult[],
  now: Date,
  graceDays: number,
) {
  const okKeys = new Set(
    results.filter((r) => r.key.startsWith('dkim:') && r.status === 'ok').map((r) => r.key.slice(5)),
  );
  const ready = keys
    .filter((k) => k.status === 'pending' && okKeys.has(k.selector))
    .sort((a, b) => +b.createdAt - +a.createdAt)[0];
  if (ready) {
    await tx.dkimKey.updateMany({
      where: { tenantId: ready.tenantId, domainId: ready.domainId, status: 'active' },
      data: { status: 'retiring', retireAfter: new Date(now.getTime() + graceDays * 86_400_000) },
    });
    await tx.dkimKey.update({
      where: { tenantId_id: { tenantId: ready.tenantId, id: ready.id } },
      data: { status: 'active', activatedAt: now },
    });
  }
  const expired = keys.filter((k) => k.status === 'retiring' && k.retireAfter && k.retireAfter <= now);
  for (const k of expired) {
    await tx.dkimKey.update({
      where: { tenantId_id: { tenantId: k.tenantId, id: k.id } },
      data: { status: 'retired' },
    });
  }
}
