import type { DnsCheckResult } from './dns-check-result';

/** Mirrors the `DomainStatus` enum of the schema. */
export type DomainStatus = 'pending' | 'verified' | 'active' | 'degraded' | 'suspended';

/**
 * The domain lifecycle after a check run:
 * - pending → verified once the ownership TXT is seen (straight to active when MX, SPF and DKIM
 *   are right in the same run, which saves the tenant a check interval);
 * - verified → active when MX, SPF and DKIM are all right;
 * - active → degraded when one of them is missing or wrong; a record that could not be checked
 *   (`error`: timeout, SERVFAIL) says nothing about the zone, so it keeps the status;
 * - degraded → active when they are right again;
 * - suspended is a platform decision and never changes here.
 * DKIM counts the active key's record when there is one, else a pending key's record: that is
 * the key that signs, or will once it verifies.
 */
export function nextDomainStatus(current: DomainStatus, results: readonly DnsCheckResult[]): DomainStatus {
  const core = coreStatus(results);
  switch (current) {
    case 'suspended':
      return current;
    case 'pending':
      if (statusOf(results, 'ownership') !== 'ok') return 'pending';
      return core === 'ok' ? 'active' : 'verified';
    case 'verified':
      return core === 'ok' ? 'active' : 'verified';
    case 'active':
      return core === 'broken' ? 'degraded' : 'active';
    case 'degraded':
      return core === 'ok' ? 'active' : 'degraded';
  }
}

/** ok: MX, SPF and DKIM right; broken: one missing or wrong; unknown: not all ok, but only for lack of answers. */
function coreStatus(results: readonly DnsCheckResult[]): 'ok' | 'broken' | 'unknown' {
  const statuses = [statusOf(results, 'mx'), statusOf(results, 'spf'), dkimStatus(results)];
  if (statuses.every((s) => s === 'ok')) return 'ok';
  return statuses.some((s) => s === 'missing' || s === 'mismatch') ? 'broken' : 'unknown';
}

function statusOf(results: readonly DnsCheckResult[], key: string): DnsCheckResult['status'] | undefined {
  return results.find((r) => r.key === key)?.status;
}

function dkimStatus(results: readonly DnsCheckResult[]): DnsCheckResult['status'] | undefined {
  const dkim = results.filter((r) => r.key.startsWith('dkim:'));
  const active = dkim.filter((r) => r.keyStatus === 'active');
  if (active.length > 0) return active.find((r) => r.status !== 'ok')?.status ?? 'ok';
  const pending = dkim.filter((r) => r.keyStatus === 'pending');
  if (pending.some((r) => r.status === 'ok')) return 'ok';
  return pending.find((r) => r.status !== 'error')?.status ?? pending[0]?.status;
}
