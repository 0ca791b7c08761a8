import { describe, expect, it } from 'vitest';
import type { DnsCheckResult } from './dns-check-result';
import { nextDomainStatus, type DomainStatus } from './domain-status';

type S = DnsCheckResult['status'];

function results(s: { own?: S; mx?: S; spf?: S; dkim?: S; dkimNew?: S; dmarc?: S }): DnsCheckResult[] {
  const r = (key: string, status: S | undefined, extra: Partial<DnsCheckResult> = {}): DnsCheckResult[] =>
    status
      ? [{ key, type: 'TXT', name: 'x', status, expected: '', found: [], message: '', required: true, ...extra }]
      : [];
  return [
    ...r('ownership', s.own),
    ...r('mx', s.mx),
    ...r('spf', s.spf),
    ...r('dkim:mr202601a', s.dkim, { keyStatus: s.dkimNew ? 'active' : 'pending' }),
    ...r('dkim:mr202611a', s.dkimNew, { keyStatus: 'pending' }),
    ...r('dmarc', s.dmarc),
  ];
}

const allOk = { own: 'ok', mx: 'ok', spf: 'ok', dkim: 'ok' } as const;

describe('nextDomainStatus', () => {
  it.each<[DomainStatus, Parameters<typeof results>[0], DomainStatus]>([
    ['pending', { own: 'missing', mx: 'ok', spf: 'ok', dkim: 'ok' }, 'pending'],
    ['pending', { own: 'error' }, 'pending'],
    ['pending', { own: 'ok', mx: 'missing', spf: 'missing', dkim: 'missing' }, 'verified'],
    ['pending', allOk, 'active'],
    ['verified', { own: 'missing', mx: 'ok', spf: 'ok', dkim: 'missing' }, 'verified'],
    ['verified', { own: 'missing', mx: 'ok', spf: 'ok', dkim: 'ok' }, 'active'],
    ['verified', { mx: 'ok', spf: 'error', dkim: 'ok' }, 'verified'],
    ['active', { ...allOk, dmarc: 'missing' }, 'active'],
    ['active', { ...allOk, mx: 'mismatch' }, 'degraded'],
    ['active', { ...allOk, spf: 'missing' }, 'degraded'],
    ['active', { ...allOk, dkim: 'mismatch' }, 'degraded'],
    ['active', { ...allOk, mx: 'error', spf: 'error', dkim: 'error' }, 'active'],
    ['active', { ...allOk, mx: 'error', spf: 'mismatch' }, 'degraded'],
    ['active', {}, 'active'],
    ['degraded', { ...allOk, mx: 'mismatch' }, 'degraded'],
    ['degraded', { ...allOk, mx: 'error' }, 'degraded'],
    ['degraded', allOk, 'active'],
    ['suspended', allOk, 'suspended'],
    // During a rotation the active key decides; the new pending one may still be missing.
    ['active', { ...allOk, dkim: 'ok', dkimNew: 'missing' }, 'active'],
    ['active', { ...allOk, dkim: 'mismatch', dkimNew: 'ok' }, 'degraded'],
  ])('%s with %j becomes %s', (current, statuses, expected) => {
    expect(nextDomainStatus(current, results(statuses))).toBe(expected);
  });
});
