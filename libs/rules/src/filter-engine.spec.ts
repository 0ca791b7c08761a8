import { describe, expect, it } from 'vitest';
import { evaluateFilters, type FilterActionPlan } from './filter-engine';
import { type FilterRule, validateFilterRule } from './filter-schema';
import { messageSummaryFromHeaders, type MessageSummary } from './message-summary';

/** A rule as the API would store it: through validation, so tests use only valid rules. */
function rule(input: Record<string, unknown>): FilterRule {
  const result = validateFilterRule({ name: 'rule', conditions: [], actions: [{ type: 'flag' }], ...input });
  if (!result.ok) {
    throw new Error(JSON.stringify(result.errors));
  }
  return result.rule;
}

const RAW = [
  'From: "ACME Billing" <billing@acme.example>',
  'To: alice@example.com, Bob <bob@example.com>',
  'Cc: carol@example.com',
  'Subject: Invoice 2024-117 (overdue)',
  'List-Id: Announcements <announce.lists.example.org>',
  'X-Mailer: Mailer 3.1',
  'X-Tag: first',
  'X-Tag: second',
].join('\r\n');

const message: MessageSummary = messageSummaryFromHeaders(RAW, 50_000, {
  hasAttachment: true,
  spamScore: 4.2,
  spamVerdict: 'ham',
  auth: { spf: 'pass', dkim: 'fail', dmarc: 'none' },
});

function matches(condition: Record<string, unknown>, msg: MessageSummary = message): boolean {
  return evaluateFilters([rule({ conditions: [condition] })], msg).matched.length === 1;
}

describe('conditions', () => {
  it.each([
    // from: address or display name
    [{ field: 'from', operator: 'is', value: 'BILLING@acme.example' }, true],
    [{ field: 'from', operator: 'is', value: 'acme.example' }, false],
    [{ field: 'from', operator: 'contains', value: 'acme billing' }, true],
    [{ field: 'from', operator: 'matches', value: '*@acme.example' }, true],
    [{ field: 'from', operator: 'matches', value: '*@acme' }, false],
    [{ field: 'from', operator: 'regex', value: '^billing@' }, true],
    [{ field: 'from', operator: 'regex', value: '^invoices@' }, false],
    // to: several addresses, any one passes
    [{ field: 'to', operator: 'is', value: 'bob@example.com' }, true],
    [{ field: 'to', operator: 'is', value: 'alice@example.com' }, true],
    [{ field: 'to', operator: 'is', value: 'carol@example.com' }, false],
    [{ field: 'to', operator: 'contains', value: 'bob' }, true],
    [{ field: 'to', operator: 'matches', value: 'b?b@*' }, true],
    [{ field: 'to', operator: 'regex', value: '^(alice|dave)@' }, true],
    // cc
    [{ field: 'cc', operator: 'is', value: 'carol@example.com' }, true],
    [{ field: 'cc', operator: 'contains', value: 'bob' }, false],
    // subject
    [{ field: 'subject', operator: 'is', value: 'invoice 2024-117 (OVERDUE)' }, true],
    [{ field: 'subject', operator: 'is', value: 'Invoice' }, false],
    [{ field: 'subject', operator: 'contains', value: 'OVERDUE' }, true],
    [{ field: 'subject', operator: 'matches', value: 'invoice ????-* (*)' }, true],
    [{ field: 'subject', operator: 'matches', value: 'invoice' }, false],
    [{ field: 'subject', operator: 'regex', value: 'invoice \\d{4}-\\d+' }, true],
    [{ field: 'subject', operator: 'regex', value: '^overdue' }, false],
    // header: any occurrence, name in any case
    [{ field: 'header', name: 'list-id', operator: 'contains', value: 'announce.lists' }, true],
    [{ field: 'header', name: 'LIST-ID', operator: 'matches', value: '*<announce.lists.example.org>' }, true],
    [{ field: 'header', name: 'x-tag', operator: 'is', value: 'second' }, true],
    [{ field: 'header', name: 'X-Mailer', operator: 'regex', value: '^mailer [0-9.]+$' }, true],
    [{ field: 'header', name: 'X-Absent', operator: 'is', value: '' }, false],
    [{ field: 'header', name: 'X-Absent', operator: 'contains', value: 'x', not: true }, true],
    // size and spam score
    [{ field: 'size', operator: 'greaterThan', value: 49_999 }, true],
    [{ field: 'size', operator: 'greaterThan', value: 50_000 }, false],
    [{ field: 'size', operator: 'lessThan', value: 50_001 }, true],
    [{ field: 'size', operator: 'lessThan', value: 50_000 }, false],
    [{ field: 'spamScore', operator: 'greaterThan', value: 4 }, true],
    [{ field: 'spamScore', operator: 'lessThan', value: 4.2 }, false],
    // flags and verdicts
    [{ field: 'hasAttachment', operator: 'is', value: true }, true],
    [{ field: 'hasAttachment', operator: 'is', value: false }, false],
    [{ field: 'spamVerdict', operator: 'is', value: 'ham' }, true],
    [{ field: 'spamVerdict', operator: 'is', value: 'spam' }, false],
    [{ field: 'spf', operator: 'is', value: 'pass' }, true],
    [{ field: 'dkim', operator: 'is', value: 'pass' }, false],
    [{ field: 'dkim', operator: 'is', value: 'fail' }, true],
    [{ field: 'dmarc', operator: 'is', value: 'none' }, true],
    // not negates the whole test
    [{ field: 'subject', operator: 'contains', value: 'invoice', not: true }, false],
    [{ field: 'to', operator: 'is', value: 'carol@example.com', not: true }, true],
    [{ field: 'to', operator: 'contains', value: 'example.com', not: true }, false],
    [{ field: 'size', operator: 'greaterThan', value: 1_000_000, not: true }, true],
    [{ field: 'spf', operator: 'is', value: 'pass', not: true }, false],
  ])('%j matches: %s', (condition, expected) => {
    expect(matches(condition)).toBe(expected);
  });

  it('never holds a spam score condition for an unscored message', () => {
    const unscored = messageSummaryFromHeaders(RAW, 10);
    expect(matches({ field: 'spamScore', operator: 'greaterThan', value: -100 }, unscored)).toBe(false);
    expect(matches({ field: 'spamScore', operator: 'lessThan', value: 100 }, unscored)).toBe(false);
  });

  it('treats regex metacharacters in a glob literally', () => {
    const msg = messageSummaryFromHeaders('Subject: a.b and more', 1);
    expect(matches({ field: 'subject', operator: 'matches', value: 'a.b*' }, msg)).toBe(true);
    const other = messageSummaryFromHeaders('Subject: aXb and more', 1);
    expect(matches({ field: 'subject', operator: 'matches', value: 'a.b*' }, other)).toBe(false);
  });
});

describe('matchMode', () => {
  const hit = { field: 'subject', operator: 'contains', value: 'invoice' };
  const miss = { field: 'subject', operator: 'contains', value: 'newsletter' };
  it.each([
    ['all', [hit, hit], true],
    ['all', [hit, miss], false],
    ['any', [miss, hit], true],
    ['any', [miss, miss], false],
    ['all', [], true],
    ['any', [], true],
  ])('%s of %j matches: %s', (matchMode, conditions, expected) => {
    const result = evaluateFilters([rule({ matchMode, conditions })], message);
    expect(result.matched.length === 1).toBe(expected);
  });
});

describe('rule order, stop and disabled rules', () => {
  it('reports matched rules by index and name, in order, skipping disabled and unmatched ones', () => {
    const sut = evaluateFilters(
      [
        rule({ name: 'a', actions: [{ type: 'markRead' }] }),
        rule({ name: 'b', enabled: false, actions: [{ type: 'discard' }] }),
        rule({ name: 'c', conditions: [{ field: 'subject', operator: 'is', value: 'nope' }] }),
        rule({ name: 'd', actions: [{ type: 'flag' }] }),
      ],
      message,
    );
    expect(sut.matched).toEqual([
      { index: 0, name: 'a' },
      { index: 3, name: 'd' },
    ]);
    expect(sut.stopped).toBe(false);
    expect(sut.plan).toMatchObject({ keep: true, discard: false, markRead: true, flagged: true });
  });

  it('stops after a rule with stop, after applying all its actions', () => {
    const sut = evaluateFilters(
      [
        rule({ name: 'first', actions: [{ type: 'stop' }, { type: 'moveTo', folder: 'Bills' }] }),
        rule({ name: 'second', actions: [{ type: 'moveTo', folder: 'Other' }] }),
      ],
      message,
    );
    expect(sut.matched.map((m) => m.name)).toEqual(['first']);
    expect(sut.stopped).toBe(true);
    expect(sut.plan.folder).toBe('Bills');
  });

  it('does not stop on a stop rule that did not match', () => {
    const sut = evaluateFilters(
      [
        rule({ conditions: [{ field: 'subject', operator: 'is', value: 'x' }], actions: [{ type: 'stop' }] }),
        rule({ actions: [{ type: 'moveTo', folder: 'Other' }] }),
      ],
      message,
    );
    expect([sut.stopped, sut.plan.folder]).toEqual([false, 'Other']);
  });

  it('files into the last moveTo', () => {
    const sut = evaluateFilters(
      [rule({ actions: [{ type: 'moveTo', folder: 'A' }] }), rule({ actions: [{ type: 'moveTo', folder: 'B' }] })],
      message,
    );
    expect(sut.plan.folder).toBe('B');
  });

  it('runs no rules on an empty list and keeps the message in the inbox', () => {
    expect(evaluateFilters([], message)).toEqual({
      matched: [],
      stopped: false,
      plan: {
        keep: true,
        folder: null,
        markRead: false,
        flagged: false,
        forwards: [],
        redirects: [],
        discard: false,
        reject: null,
      },
    });
  });
});

describe('action precedence: reject > discard > redirect > moveTo', () => {
  const plan = (...actionLists: Array<Array<Record<string, unknown>>>): FilterActionPlan =>
    evaluateFilters(
      actionLists.map((actions) => rule({ actions })),
      message,
    ).plan;

  it('moveTo keeps a copy in that folder with its flags, and forward adds copies', () => {
    expect(
      plan(
        [{ type: 'moveTo', folder: 'Bills' }, { type: 'markRead' }],
        [{ type: 'forward', to: 'a@x.test' }, { type: 'flag' }],
      ),
    ).toEqual({
      keep: true,
      folder: 'Bills',
      markRead: true,
      flagged: true,
      forwards: ['a@x.test'],
      redirects: [],
      discard: false,
      reject: null,
    });
  });

  it('redirect beats moveTo: no copy is kept, the message goes on', () => {
    expect(
      plan([{ type: 'moveTo', folder: 'Bills' }, { type: 'flag' }], [{ type: 'redirect', to: 'r@x.test' }]),
    ).toEqual({
      keep: false,
      folder: null,
      markRead: false,
      flagged: false,
      forwards: [],
      redirects: ['r@x.test'],
      discard: false,
      reject: null,
    });
  });

  it('discard beats redirect and moveTo for the local copy, but forwards and redirects still go out', () => {
    expect(
      plan(
        [{ type: 'forward', to: 'f@x.test' }],
        [{ type: 'discard' }],
        [
          { type: 'redirect', to: 'r@x.test' },
          { type: 'moveTo', folder: 'Bills' },
        ],
      ),
    ).toMatchObject({ keep: false, folder: null, discard: true, forwards: ['f@x.test'], redirects: ['r@x.test'] });
  });

  it('reject beats everything: nothing is kept or sent, and processing ends', () => {
    const sut = evaluateFilters(
      [
        rule({
          name: 'fwd',
          actions: [
            { type: 'forward', to: 'f@x.test' },
            { type: 'moveTo', folder: 'X' },
          ],
        }),
        rule({ name: 'no', actions: [{ type: 'reject', text: 'Mailbox closed' }, { type: 'discard' }] }),
        rule({ name: 'later', actions: [{ type: 'reject', text: 'other text' }] }),
      ],
      message,
    );
    expect(sut.matched.map((m) => m.name)).toEqual(['fwd', 'no']);
    expect(sut.stopped).toBe(true);
    expect(sut.plan).toEqual({
      keep: false,
      folder: null,
      markRead: false,
      flagged: false,
      forwards: [],
      redirects: [],
      discard: false,
      reject: 'Mailbox closed',
    });
  });

  it('sends one copy per address, whatever its case', () => {
    expect(
      plan(
        [{ type: 'forward', to: 'A@x.test' }],
        [{ type: 'forward', to: 'a@X.test' }],
        [{ type: 'forward', to: 'b@x.test' }],
      ).forwards,
    ).toEqual(['A@x.test', 'b@x.test']);
  });
});
