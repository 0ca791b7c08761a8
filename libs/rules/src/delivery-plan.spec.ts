import { describe, expect, it } from 'vitest';
import { planDelivery, type MailboxSettings, type MailboxTarget, type PlanRecipient } from './delivery-plan';
import type { FilterRule } from './filter-schema';
import { messageSummaryFromHeaders } from './message-summary';

const now = new Date('2026-11-28T12:00:00Z');
const summary = messageSummaryFromHeaders('From: a@remote.example\r\nTo: bob@t1.example\r\nSubject: hi\r\n\r\n', 100);

function target(id: string, junk: number | null = null): MailboxTarget {
  return {
    tenantId: 't1',
    mailboxId: id,
    address: `${id}@t1.example`,
    domainName: 't1.example',
    quotaBytes: 1_000_000n,
    usedBytes: 0n,
    spamJunkThreshold: junk,
  };
}

function recipient(
  mailboxes: MailboxTarget[],
  forwards: string[] = [],
  tenantReject: number | null = null,
): PlanRecipient {
  return {
    address: 'rcpt@t1.example',
    tenant: { id: 't1', spamJunkThreshold: null, spamRejectThreshold: tenantReject },
    domainName: 't1.example',
    mailboxes,
    forwards,
    dsn: { notify: ['FAILURE'], orcpt: 'rfc822;rcpt@t1.example' },
  };
}

const rule = (actions: FilterRule['actions']): FilterRule => ({
  name: 'r',
  enabled: true,
  matchMode: 'all',
  conditions: [],
  actions,
});

function settings(filters: FilterRule[], forwarding: MailboxSettings['forwarding'] = null): MailboxSettings {
  return { filters, skippedFilters: [], vacation: null, forwarding };
}

function plan(recipients: PlanRecipient[], spamScore: number, byMailbox: Record<string, MailboxSettings> = {}) {
  return planDelivery({
    recipients,
    settings: new Map(Object.entries(byMailbox)),
    summary,
    envelopeFrom: 'a@remote.example',
    spamScore,
    defaultJunkThreshold: 5,
    defaultRejectThreshold: 15,
    now,
  });
}

describe('planDelivery', () => {
  it.each([
    ['a clean message goes to the inbox', 0, null, 'inbox'],
    ['a score at the junk threshold goes to Junk', 5, null, 'junk'],
    ['a mailbox threshold above the score keeps it in the inbox', 6, 10, 'inbox'],
    ['a mailbox threshold below the default files it as junk', 3, 2, 'junk'],
  ])('%s', (_name, score, mailboxJunk, folder) => {
    const sut = plan([recipient([target('m1', mailboxJunk)])], score);
    expect(sut.kind).toBe('deliver');
    if (sut.kind !== 'deliver') return;
    expect(sut.tenants[0]!.copies.map((c) => c.folder.kind)).toEqual([folder]);
  });

  it.each([
    ['spam over the default reject threshold', 15, null, { kind: 'reject', reason: 'spam' }],
    ['spam over the tenant reject threshold', 8, 8, { kind: 'reject', reason: 'spam' }],
    ['spam under every reject threshold', 14, null, { kind: 'deliver' }],
  ])('refuses or delivers: %s', (_name, score, tenantReject, expected) => {
    expect(plan([recipient([target('m1')], [], tenantReject)], score)).toMatchObject(expected);
  });

  it.each([
    ['moveTo files into a named folder', [{ type: 'moveTo', folder: 'Work' }], { kind: 'named', name: 'Work' }, []],
    [
      'markRead and flag set flags',
      [{ type: 'markRead' }, { type: 'flag' }],
      { kind: 'inbox' },
      ['\\Seen', '\\Flagged'],
    ],
  ] as const)('filters: %s', (_name, actions, folder, flags) => {
    const sut = plan([recipient([target('m1')])], 0, { m1: settings([rule([...actions] as FilterRule['actions'])]) });
    if (sut.kind !== 'deliver') throw new Error('expected a delivery');
    expect(sut.tenants[0]!.copies[0]).toMatchObject({ folder, flags });
  });

  it('refuses the message when the only recipient’s filter rejects it', () => {
    const sut = plan([recipient([target('m1')])], 0, { m1: settings([rule([{ type: 'reject', text: 'go away' }])]) });
    expect(sut).toEqual({ kind: 'reject', reason: 'filter', text: 'go away' });
  });

  it('gives a mailbox reached twice one copy', () => {
    const sut = plan([recipient([target('m1'), target('m1')])], 0);
    if (sut.kind !== 'deliver') throw new Error('expected a delivery');
    expect(sut.tenants[0]!.copies).toHaveLength(1);
  });

  it.each([
    ['an alias forward carries the RCPT’s DSN parameters', [], ['x@remote.example'], null, 0, 1],
    ['a mailbox forward carries them too', [target('m1')], [], ['y@remote.example'], 0, 1],
    ['junk is never forwarded', [target('m1')], [], ['y@remote.example'], 6, 0],
  ])('%s', (_name, mailboxes, aliasForwards, mailboxForwards, score, count) => {
    const byMailbox: Record<string, MailboxSettings> = mailboxForwards
      ? { m1: settings([], { targets: mailboxForwards, keepCopy: true }) }
      : {};
    const sut = plan([recipient(mailboxes, aliasForwards)], score, byMailbox);
    if (sut.kind !== 'deliver') throw new Error('expected a delivery');
    const forwards = sut.tenants[0]!.forwards;
    expect(forwards).toHaveLength(count);
    for (const f of forwards) expect(f.dsn).toEqual({ notify: ['FAILURE'], orcpt: 'rfc822;rcpt@t1.example' });
  });
});
