import { describe, expect, it } from 'vitest';
import { HeaderMap } from './header-map';
import {
  type AutoReplyInput,
  type AutoReplySkipReason,
  buildAutoReplyHeaders,
  shouldAutoReply,
  vacationSenderKey,
} from './vacation';

const NOW = new Date('2025-07-10T12:00:00Z');
const DAY = 86_400_000;

function input(overrides: Partial<AutoReplyInput> = {}, extraHeaders: Array<[string, string]> = []): AutoReplyInput {
  return {
    vacation: { enabled: true, startsAt: new Date('2025-07-01T00:00:00Z'), endsAt: null, intervalDays: 7 },
    now: NOW,
    lastRepliedAt: null,
    envelopeFrom: 'sender@example.org',
    headers: new HeaderMap([
      ['From', 'Sender <sender@example.org>'],
      ['To', 'Alice <alice@example.com>'],
      ['Subject', 'Lunch?'],
      ...extraHeaders,
    ]),
    recipientAddresses: ['alice@example.com', 'a.smith@example.com'],
    ...overrides,
  };
}

describe('shouldAutoReply', () => {
  it('replies to a person writing to the mailbox during the vacation', () => {
    expect(shouldAutoReply(input())).toEqual({ reply: true });
  });

  const vacation = input().vacation;
  it.each<[string, Partial<AutoReplyInput>, AutoReplySkipReason]>([
    ['disabled', { vacation: { ...vacation, enabled: false } }, 'disabled'],
    ['before the start', { vacation: { ...vacation, startsAt: new Date(NOW.getTime() + 1) } }, 'not-started'],
    ['at the end (end is exclusive)', { vacation: { ...vacation, endsAt: NOW } }, 'ended'],
    ['after the end', { vacation: { ...vacation, endsAt: new Date(NOW.getTime() - DAY) } }, 'ended'],
    ['the null sender <>', { envelopeFrom: '<>' }, 'null-sender'],
    ['an empty sender', { envelopeFrom: '' }, 'null-sender'],
    ['MAILER-DAEMON', { envelopeFrom: 'MAILER-DAEMON@mx.example.org' }, 'system-sender'],
    ['postmaster', { envelopeFrom: '<Postmaster@example.org>' }, 'system-sender'],
    ['an owner- address', { envelopeFrom: 'owner-dev@lists.example.org' }, 'system-sender'],
    ['a -request address', { envelopeFrom: 'dev-request@lists.example.org' }, 'system-sender'],
    [
      'a Mailman VERP bounce address',
      { envelopeFrom: 'dev-bounces+alice=example.com@lists.example.org' },
      'system-sender',
    ],
    ['a no-reply address', { envelopeFrom: 'no-reply@shop.example' }, 'system-sender'],
    ['ourselves', { envelopeFrom: 'Alice@Example.com' }, 'own-address'],
    ['a reply 6 days ago', { lastRepliedAt: new Date(NOW.getTime() - 6 * DAY) }, 'recently-replied'],
    [
      'interval 0 counts as 1 day',
      { vacation: { ...vacation, intervalDays: 0 }, lastRepliedAt: new Date(NOW.getTime() - DAY + 1000) },
      'recently-replied',
    ],
  ])('not when %s', (_, overrides, reason) => {
    expect(shouldAutoReply(input(overrides))).toEqual({ reply: false, reason });
  });

  it.each<[string, Array<[string, string]>, AutoReplySkipReason]>([
    ['Auto-Submitted: auto-replied', [['Auto-Submitted', 'auto-replied']], 'auto-submitted'],
    ['Auto-Submitted: auto-generated', [['auto-submitted', 'Auto-Generated; type=cron']], 'auto-submitted'],
    ['Precedence: bulk', [['Precedence', 'bulk']], 'bulk-precedence'],
    ['Precedence: list', [['Precedence', 'List']], 'bulk-precedence'],
    ['Precedence: junk', [['PRECEDENCE', 'junk']], 'bulk-precedence'],
    ['a List-Id', [['List-Id', '<dev.lists.example.org>']], 'mailing-list'],
    ['a List-Unsubscribe', [['List-Unsubscribe', '<mailto:u@example.org>']], 'mailing-list'],
    ['X-Auto-Response-Suppress: OOF', [['X-Auto-Response-Suppress', 'DR, OOF']], 'auto-reply-suppressed'],
  ])('not to a message with %s', (_, headers, reason) => {
    expect(shouldAutoReply(input({}, headers))).toEqual({ reply: false, reason });
  });

  it.each<[string, Array<[string, string]>]>([
    ['Auto-Submitted: no', [['Auto-Submitted', 'no']]],
    ['Precedence: first-class', [['Precedence', 'first-class']]],
    ['X-Auto-Response-Suppress: DR', [['X-Auto-Response-Suppress', 'DR, RN']]],
  ])('still replies to a message with %s', (_, headers) => {
    expect(shouldAutoReply(input({}, headers))).toEqual({ reply: true });
  });

  it.each<[string, string, string | null, boolean]>([
    ['in To', 'Bob <bob@example.com>, Alice <ALICE@example.com>', null, true],
    ['in Cc', 'bob@example.com', 'a.smith@example.com', true],
    ['as a sub-address', 'alice+travel@example.com', null, true],
    ['only in Bcc', 'bob@example.com', 'carol@example.com', false],
    ['to a look-alike address', 'malice@example.com', 'alice@example.com.evil', false],
  ])('checks that we are addressed: %s', (_, to, cc, expected) => {
    const headers = new HeaderMap([['To', to], ...(cc ? [['Cc', cc] as [string, string]] : [])]);
    const result = shouldAutoReply(input({ headers }));
    expect(result).toEqual(expected ? { reply: true } : { reply: false, reason: 'not-addressed-to-mailbox' });
  });

  it('replies again once the interval has passed, and without a start or end date', () => {
    const sut = input({
      vacation: { enabled: true, startsAt: null, endsAt: null, intervalDays: 7 },
      lastRepliedAt: new Date(NOW.getTime() - 7 * DAY),
    });
    expect(shouldAutoReply(sut)).toEqual({ reply: true });
  });

  it('replies at the very start of the window (start is inclusive)', () => {
    expect(shouldAutoReply(input({ vacation: { ...vacation, startsAt: NOW } }))).toEqual({ reply: true });
  });
});

describe('vacationSenderKey', () => {
  it('lower-cases and strips angle brackets', () => {
    expect(vacationSenderKey(' <Bob@Example.ORG> ')).toBe('bob@example.org');
  });
});

describe('buildAutoReplyHeaders', () => {
  it('threads the reply under the original and marks it auto-replied', () => {
    const originalHeaders = new HeaderMap([
      ['Subject', 'Project update'],
      ['Message-ID', ' <m3@example.org> '],
      ['References', '<m1@example.org>\t<m2@example.org>'],
      ['In-Reply-To', '<m2@example.org>'],
    ]);
    expect(buildAutoReplyHeaders({ originalHeaders })).toEqual({
      'Auto-Submitted': 'auto-replied',
      'X-Auto-Response-Suppress': 'All',
      Subject: 'Auto: Project update',
      'In-Reply-To': '<m3@example.org>',
      References: '<m1@example.org> <m2@example.org> <m3@example.org>',
    });
  });

  it('falls back to a single In-Reply-To when the original has no References', () => {
    const originalHeaders = new HeaderMap([
      ['Message-ID', '<m2@example.org>'],
      ['In-Reply-To', '<m1@example.org>'],
    ]);
    expect(buildAutoReplyHeaders({ originalHeaders }).References).toBe('<m1@example.org> <m2@example.org>');
  });

  it('uses the configured subject, on one line', () => {
    const originalHeaders = new HeaderMap([['Subject', 'Hi']]);
    const sut = buildAutoReplyHeaders({ originalHeaders, configuredSubject: 'Out of office\r\nBcc: victim@x.test' });
    expect(sut.Subject).toBe('Out of office Bcc: victim@x.test');
  });

  it('omits threading fields when the original has no Message-ID', () => {
    const sut = buildAutoReplyHeaders({ originalHeaders: new HeaderMap() });
    expect(sut).toEqual({ 'Auto-Submitted': 'auto-replied', 'X-Auto-Response-Suppress': 'All', Subject: 'Auto:' });
  });
});
