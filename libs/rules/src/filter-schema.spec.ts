import { describe, expect, it } from 'vitest';
import { MAX_ACTIONS, MAX_CONDITIONS, validateFilterRule } from './filter-schema';

const base = {
  name: 'Invoices',
  conditions: [{ field: 'subject', operator: 'contains', value: 'invoice' }],
  actions: [{ type: 'moveTo', folder: 'Invoices' }],
};

function errorsOf(input: unknown) {
  const sut = validateFilterRule(input);
  if (sut.ok) {
    throw new Error(`expected errors, got ${JSON.stringify(sut.rule)}`);
  }
  return sut.errors;
}

describe('validateFilterRule accepts', () => {
  it('a minimal rule and fills in enabled and matchMode', () => {
    const sut = validateFilterRule(base);
    expect(sut).toEqual({ ok: true, rule: { ...base, enabled: true, matchMode: 'all' } });
  });

  it.each([
    { field: 'from', operator: 'is', value: 'boss@example.com' },
    { field: 'to', operator: 'matches', value: '*@example.com', not: true },
    { field: 'cc', operator: 'regex', value: '^team-[a-z]+@' },
    { field: 'subject', operator: 'is', value: '' },
    { field: 'header', name: 'List-Id', operator: 'contains', value: 'dev.lists' },
    { field: 'size', operator: 'greaterThan', value: 1_000_000 },
    { field: 'spamScore', operator: 'lessThan', value: -0.5 },
    { field: 'hasAttachment', operator: 'is', value: true },
    { field: 'spamVerdict', operator: 'is', value: 'spam' },
    { field: 'spf', operator: 'is', value: 'softfail' },
    { field: 'dkim', operator: 'is', value: 'temperror' },
    { field: 'dmarc', operator: 'is', value: 'permerror' },
  ])('the condition %j', (condition) => {
    expect(validateFilterRule({ ...base, conditions: [condition] }).ok).toBe(true);
  });

  it.each([
    { type: 'moveTo', folder: 'Archive/2024' },
    { type: 'markRead' },
    { type: 'flag' },
    { type: 'forward', to: 'backup@example.org' },
    { type: 'redirect', to: 'assistant@example.org' },
    { type: 'discard' },
    { type: 'reject', text: 'This address no longer accepts mail' },
    { type: 'stop' },
  ])('the action %j', (action) => {
    expect(validateFilterRule({ ...base, actions: [action] }).ok).toBe(true);
  });

  it('a rule without conditions', () => {
    expect(validateFilterRule({ ...base, conditions: [] }).ok).toBe(true);
  });

  it('trims the name and the folder', () => {
    const sut = validateFilterRule({ ...base, name: '  Bills ', actions: [{ type: 'moveTo', folder: ' Bills ' }] });
    expect(sut.ok && [sut.rule.name, sut.rule.actions[0]]).toEqual(['Bills', { type: 'moveTo', folder: 'Bills' }]);
  });
});

describe('validateFilterRule refuses, naming the field', () => {
  it.each([
    ['a missing name', { ...base, name: undefined }, 'name', 'is required'],
    ['a blank name', { ...base, name: '   ' }, 'name', 'must not be empty'],
    ['a long name', { ...base, name: 'x'.repeat(101) }, 'name', 'must be at most 100 characters long'],
    ['a wrong matchMode', { ...base, matchMode: 'most' }, 'matchMode', 'must be one of: all, any'],
    ['enabled as a string', { ...base, enabled: 'yes' }, 'enabled', 'must be true or false'],
    ['no actions', { ...base, actions: [] }, 'actions', 'must have at least 1 item'],
    ['no conditions list', { name: 'x', actions: base.actions }, 'conditions', 'is required'],
    ['conditions not a list', { ...base, conditions: {} }, 'conditions', 'must be a list'],
    ['an unknown key', { ...base, priority: 1 }, 'priority', 'is not a known field'],
  ])('%s', (_, input, field, message) => {
    expect(errorsOf(input)).toEqual([{ field, message }]);
  });

  it('a value that is not an object', () => {
    expect(errorsOf(null)).toEqual([{ field: '', message: 'must be an object' }]);
  });

  it.each([
    [
      'an unknown field',
      { field: 'body', operator: 'is', value: 'x' },
      'conditions.0.field',
      /^must be one of: from, to, cc, subject, header, size/,
    ],
    ['a missing field', { operator: 'is', value: 'x' }, 'conditions.0.field', /^is required, one of: from, /],
    [
      'a text operator on size',
      { field: 'size', operator: 'contains', value: 5 },
      'conditions.0.operator',
      /^must be one of: greaterThan, lessThan$/,
    ],
    [
      'a comparison on subject',
      { field: 'subject', operator: 'greaterThan', value: 'a' },
      'conditions.0.operator',
      /^must be one of: is, contains, matches, regex$/,
    ],
    [
      'a negative size',
      { field: 'size', operator: 'lessThan', value: -1 },
      'conditions.0.value',
      /^must be at least 0$/,
    ],
    [
      'a fractional size',
      { field: 'size', operator: 'lessThan', value: 1.5 },
      'conditions.0.value',
      /^must be a whole number$/,
    ],
    [
      'a size as text',
      { field: 'size', operator: 'lessThan', value: '10' },
      'conditions.0.value',
      /^must be a number$/,
    ],
    [
      'an unknown auth result',
      { field: 'spf', operator: 'is', value: 'ok' },
      'conditions.0.value',
      /^must be one of: pass, fail, softfail, neutral, none, temperror, permerror$/,
    ],
    [
      'contains on spamVerdict',
      { field: 'spamVerdict', operator: 'contains', value: 'spam' },
      'conditions.0.operator',
      /^must be "is"$/,
    ],
    [
      'an empty contains',
      { field: 'subject', operator: 'contains', value: '' },
      'conditions.0.value',
      /^must not be empty$/,
    ],
    ['a header without a name', { field: 'header', operator: 'is', value: 'x' }, 'conditions.0.name', /^is required$/],
    [
      'a header name with a colon',
      { field: 'header', name: 'X-A:B', operator: 'is', value: 'x' },
      'conditions.0.name',
      /^must be a header field name/,
    ],
    [
      'a misspelt key',
      { field: 'subject', operator: 'is', value: 'x', nott: true },
      'conditions.0.nott',
      /^is not a known field$/,
    ],
    [
      'not as a string',
      { field: 'subject', operator: 'is', value: 'x', not: 'true' },
      'conditions.0.not',
      /^must be true or false$/,
    ],
    [
      'a catastrophic regex (a+)+$',
      { field: 'subject', operator: 'regex', value: '(a+)+$' },
      'conditions.0.value',
      /exponential time/,
    ],
    [
      'a catastrophic regex (.*a){20}',
      { field: 'from', operator: 'regex', value: '(.*a){20}' },
      'conditions.0.value',
      /exponential time/,
    ],
    [
      'a catastrophic regex ([a-z]+)*$',
      { field: 'header', name: 'X-Mailer', operator: 'regex', value: '([a-z]+)*$' },
      'conditions.0.value',
      /exponential time/,
    ],
    [
      'an overlong regex',
      { field: 'subject', operator: 'regex', value: 'a'.repeat(257) },
      'conditions.0.value',
      /^must be at most 256 characters long/,
    ],
    [
      'an invalid regex',
      { field: 'subject', operator: 'regex', value: '[a-' },
      'conditions.0.value',
      /^is not a valid regular expression/,
    ],
  ])('a condition with %s', (_, condition, field, message) => {
    const errors = errorsOf({ ...base, conditions: [condition] });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe(field);
    expect(errors[0]?.message).toMatch(message);
  });

  it.each([
    [
      'an unknown type',
      { type: 'delete' },
      'actions.0.type',
      /^must be one of: moveTo, markRead, flag, forward, redirect, discard, reject, stop$/,
    ],
    ['moveTo without a folder', { type: 'moveTo' }, 'actions.0.folder', /^is required$/],
    ['moveTo with a blank folder', { type: 'moveTo', folder: ' ' }, 'actions.0.folder', /^must not be empty$/],
    [
      'a folder with a newline',
      { type: 'moveTo', folder: 'a\nb' },
      'actions.0.folder',
      /^must not contain control characters$/,
    ],
    [
      'forward to a non-address',
      { type: 'forward', to: 'not-an-address' },
      'actions.0.to',
      /^must be an email address$/,
    ],
    ['redirect without an address', { type: 'redirect' }, 'actions.0.to', /^is required$/],
    [
      'reject text over two lines',
      { type: 'reject', text: 'go away\r\n250 ok' },
      'actions.0.text',
      /^must be a single line/,
    ],
    ['an extra key', { type: 'stop', folder: 'x' }, 'actions.0.folder', /^is not a known field$/],
  ])('an action with %s', (_, action, field, message) => {
    const errors = errorsOf({ ...base, actions: [action] });
    expect(errors).toHaveLength(1);
    expect(errors[0]?.field).toBe(field);
    expect(errors[0]?.message).toMatch(message);
  });

  it('too many conditions and actions', () => {
    const condition = base.conditions[0];
    const errors = errorsOf({
      ...base,
      conditions: Array.from({ length: MAX_CONDITIONS + 1 }, () => condition),
      actions: Array.from({ length: MAX_ACTIONS + 1 }, () => ({ type: 'flag' })),
    });
    expect(errors).toEqual([
      { field: 'conditions', message: `must have at most ${MAX_CONDITIONS} items` },
      { field: 'actions', message: `must have at most ${MAX_ACTIONS} items` },
    ]);
  });

  it('reports every problem at once', () => {
    const errors = errorsOf({
      name: '',
      conditions: [
        { field: 'subject', operator: 'is', value: 'ok' },
        { field: 'size', operator: 'lessThan', value: -5 },
      ],
      actions: [{ type: 'forward', to: 'x' }],
    });
    expect(errors.map((e) => e.field)).toEqual(['name', 'conditions.1.value', 'actions.0.to']);
  });
});
