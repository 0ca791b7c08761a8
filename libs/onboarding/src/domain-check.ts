import { checkDomainDns, nextDomainStatus, type DnsCheckResult, type DnsResolver } from '@mailroom/dns';
import { inTransaction, type Db, type DkimKey, type Domain, type DomainStatus, type Tx } from '@mailroom/db';
import { recordEvent } from '@mailroom/webhooks';
import { DomainRepository, type CheckRow, type DomainWithDns } from './domain.repository';
import { planForDomain, type PlatformDns } from './platform-dns';

const domains = new DomainRepository();

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
  db: Db,
  platform: PlatformDns,
  resolver: DnsResolver,
  ids: { tenantId: string; domainId: string },
  options: DomainCheckOptions,
): Promise<DomainCheckOutcome | null> {
  const now = options.now ?? new Date();
  const domain = await domains.findWithDns(db, ids.tenantId, ids.domainId);
  if (!domain || domain.deletedAt || domain.status === 'suspended') return null;
  const plan = planForDomain(platform, domain, domain.dkimKeys, domain.dnsChecks);
  const results = await checkDomainDns(plan, resolver, { spfInclude: platform.spfInclude });
  const status = nextDomainStatus(domain.status, results);

  return inTransaction(db, async (tx) => {
    await storeResults(tx, domain, results, now);
    await rotateKeys(tx, domain.dkimKeys, results, now, options.dkimGraceDays);
    const changed = status !== domain.status;
    const moved = await domains.moveStatus(tx, domain.tenantId, domain.id, {
      from: domain.status,
      to: status,
      checkedAt: now,
      nextCheckAt: new Date(now.getTime() + options.intervalMinutes * 60_000),
      ...(changed && (status === 'verified' || status === 'active') && !domain.verifiedAt ? { verifiedAt: now } : {}),
      ...(changed && status === 'active' && !domain.activatedAt ? { activatedAt: now } : {}),
    });
    let webhookDeliveryIds: string[] = [];
    if (changed && moved) {
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
    const fresh = await domains.get(tx, domain.tenantId, domain.id);
    return { domain: fresh, previous: domain.status, status: fresh.status, results, webhookDeliveryIds };
  });
}

async function storeResults(tx: Tx, domain: DomainWithDns, results: DnsCheckResult[], now: Date) {
  const before = new Map(domain.dnsChecks.map((c) => [c.recordKey, c.status]));
  const rows: CheckRow[] = results.map((r) => ({
    recordKey: r.key,
    type: r.type,
    name: r.name,
    expected: r.expected,
    found: r.found,
    status: r.status,
    message: r.message,
    checkedAt: now,
    ...(before.get(r.key) !== r.status ? { changedAt: now } : {}),
  }));
  // Records no longer in the plan (a retired DKIM key) stop being reported.
  await domains.storeChecks(tx, domain.tenantId, domain.id, rows);
}

/**
 * A pending key whose record is published becomes the signing key; the key it replaces keeps
 * its record for `graceDays` (mail signed with it is still in flight), then retires.
 */
async function rotateKeys(tx: Tx, keys: DkimKey[], results: DnsCheckResult[], now: Date, graceDays: number) {
  const okKeys = new Set(
    results.filter((r) => r.key.startsWith('dkim:') && r.status === 'ok').map((r) => r.key.slice(5)),
  );
  const ready = keys
    .filter((k) => k.status === 'pending' && okKeys.has(k.selector))
    .sort((a, b) => +b.createdAt - +a.createdAt)[0];
  if (ready) {
    await domains.activateKey(tx, ready, now, new Date(now.getTime() + graceDays * 86_400_000));
  }
  const expired = keys.filter((k) => k.status === 'retiring' && k.retireAfter && k.retireAfter <= now);
  for (const k of expired) await domains.retireKey(tx, k.tenantId, k.id);
}
