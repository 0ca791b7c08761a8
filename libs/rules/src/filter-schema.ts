import type { FieldProblem } from '@mailroom/core';
import { z } from 'zod';
import { regexPatternProblem } from './filter-match';
import { AUTH_RESULTS, SPAM_VERDICTS } from './message-summary';

export const MAX_CONDITIONS = 50;
export const MAX_ACTIONS = 20;
const MAX_VALUE_LENGTH = 1024;

const not = z.boolean().optional();
const textOperator = z.enum(['is', 'contains', 'matches', 'regex']);
const numberOperator = z.enum(['greaterThan', 'lessThan']);
const onlyIs = z.literal('is');

// The operator decides what an acceptable value is, so the check runs on the whole condition.
function checkTextValue(condition: { operator: string; value: string }, ctx: z.RefinementCtx): void {
  const { operator, value } = condition;
  let problem: string | null = null;
  if (operator !== 'is' && value === '') {
    problem = 'must not be empty';
  } else if (operator === 'regex') {
    problem = regexPatternProblem(value);
  }
  if (problem !== null) {
    ctx.addIssue({ code: 'custom', path: ['value'], message: problem });
  }
}

const textValue = z.string().max(MAX_VALUE_LENGTH);

const addressOrSubjectCondition = z
  .strictObject({ field: z.enum(['from', 'to', 'cc', 'subject']), operator: textOperator, value: textValue, not })
  .superRefine(checkTextValue);

const headerCondition = z
  .strictObject({
    field: z.literal('header'),
    // field-name is printable US-ASCII except the colon (RFC 5322 §3.6.8).
    name: z
      .string()
      .max(100)
      .regex(/^[!-9;-~]+$/, 'must be a header field name such as List-Id'),
    operator: textOperator,
    value: textValue,
    not,
  })
  .superRefine(checkTextValue);

const sizeCondition = z.strictObject({
  field: z.literal('size'),
  operator: numberOperator,
  value: z.number().int().min(0),
  not,
});

const spamScoreCondition = z.strictObject({
  field: z.literal('spamScore'),
  operator: numberOperator,
  value: z.number(),
  not,
});

const attachmentCondition = z.strictObject({
  field: z.literal('hasAttachment'),
  operator: onlyIs,
  value: z.boolean(),
  not,
});

const spamVerdictCondition = z.strictObject({
  field: z.literal('spamVerdict'),
  operator: onlyIs,
  value: z.enum(SPAM_VERDICTS),
  not,
});

const authCondition = z.strictObject({
  field: z.enum(['spf', 'dkim', 'dmarc']),
  operator: onlyIs,
  value: z.enum(AUTH_RESULTS),
  not,
});

export const filterConditionSchema = z.discriminatedUnion('field', [
  addressOrSubjectCondition,
  headerCondition,
  sizeCondition,
  spamScoreCondition,
  attachmentCondition,
  spamVerdictCondition,
  authCondition,
]);

// Only the format message is ours: a missing address should still read "is required".
const address = z
  .email({ error: (issue) => (issue.code === 'invalid_format' ? 'must be an email address' : undefined) })
  .max(254);
// Reject text ends up in an SMTP reply line (RFC 5321 §4.2), so one line of printable text.
const rejectText = z
  .string()
  .trim()
  .min(1)
  .max(500)
  .regex(/^[^\p{Cc}]*$/u, 'must be a single line without control characters');
const folder = z
  .string()
  .trim()
  .min(1)
  .max(255)
  .regex(/^[^\p{Cc}]*$/u, 'must not contain control characters');

export const filterActionSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('moveTo'), folder }),
  z.strictObject({ type: z.literal('markRead') }),
  z.strictObject({ type: z.literal('flag') }),
  z.strictObject({ type: z.literal('forward'), to: address }),
  z.strictObject({ type: z.literal('redirect'), to: address }),
  z.strictObject({ type: z.literal('discard') }),
  z.strictObject({ type: z.literal('reject'), text: rejectText }),
  z.strictObject({ type: z.literal('stop') }),
]);

/**
 * One mailbox filter rule. Objects are strict: an unknown key (`opertor`, `nott`) is an error,
 * not silently ignored. An empty `conditions` list matches every message; the list itself is
 * required, so a client that forgets it cannot create a rule that discards all mail.
 */
export const filterRuleSchema = z.strictObject({
  name: z.string().trim().min(1).max(100),
  enabled: z.boolean().default(true),
  matchMode: z.enum(['all', 'any']).default('all'),
  conditions: z.array(filterConditionSchema).max(MAX_CONDITIONS),
  actions: z.array(filterActionSchema).min(1).max(MAX_ACTIONS),
});

export type FilterCondition = z.output<typeof filterConditionSchema>;
export type FilterAction = z.output<typeof filterActionSchema>;
export type FilterRule = z.output<typeof filterRuleSchema>;
export type FilterRuleInput = z.input<typeof filterRuleSchema>;

const EXPECTED: Record<string, string> = {
  string: 'text',
  number: 'a number',
  int: 'a whole number',
  boolean: 'true or false',
  object: 'an object',
  array: 'a list',
};

function bound(kind: 'at least' | 'at most', origin: string, limit: number | bigint, inclusive: boolean): string {
  const n = Number(limit);
  if (origin === 'string') {
    return kind === 'at least' && n === 1 ? 'must not be empty' : `must be ${kind} ${n} characters long`;
  }
  if (origin === 'array') {
    return `must have ${kind} ${n} ${n === 1 ? 'item' : 'items'}`;
  }
  const strict = kind === 'at least' ? 'greater than' : 'less than';
  return inclusive ? `must be ${kind} ${n}` : `must be ${strict} ${n}`;
}

function oneOf(values: readonly unknown[]): string {
  return values.length === 1 ? `must be ${JSON.stringify(values[0])}` : `must be one of: ${values.join(', ')}`;
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null;
}

/** Zod's defaults ("Invalid input: expected string, received undefined") rephrased for people. */
const humanMessages: z.core.$ZodErrorMap = (issue) => {
  switch (issue.code) {
    case 'invalid_type':
      return issue.input === undefined ? 'is required' : `must be ${EXPECTED[issue.expected] ?? issue.expected}`;
    case 'too_small':
      return bound('at least', issue.origin, issue.minimum, issue.inclusive ?? true);
    case 'too_big':
      return bound('at most', issue.origin, issue.maximum, issue.inclusive ?? true);
    case 'invalid_value':
      return oneOf(issue.values);
    case 'invalid_union': {
      const options = 'options' in issue ? issue.options : undefined;
      if (issue.discriminator === undefined || !Array.isArray(options)) {
        return undefined;
      }
      // The issue's input is the whole object; look at the discriminator itself.
      const value = isRecord(issue.input) ? issue.input[issue.discriminator] : issue.input;
      return value === undefined ? `is required, one of: ${options.join(', ')}` : oneOf(options);
    }
    case 'invalid_format':
    case 'not_multiple_of':
    case 'unrecognized_keys':
    case 'invalid_key':
    case 'invalid_element':
    case 'custom':
      return undefined;
  }
};

function toProblems(issues: readonly z.core.$ZodIssue[]): FieldProblem[] {
  return issues.flatMap((issue) => {
    // One problem per unknown key, at the key itself, so a form can point at it.
    if (issue.code === 'unrecognized_keys') {
      return issue.keys.map((key) => ({ field: [...issue.path, key].join('.'), message: 'is not a known field' }));
    }
    return [{ field: issue.path.map(String).join('.'), message: issue.message }];
  });
}

export type FilterRuleValidation = { ok: true; rule: FilterRule } | { ok: false; errors: FieldProblem[] };

/**
 * Validates one filter rule from an API body or a stored row. Errors name the field by dotted
 * path (`conditions.2.value`, `actions.0.to`; '' for the rule itself) with a message for people.
 * Regular expressions are checked here, at save time, never first at delivery time: see
 * {@link regexPatternProblem} (too long, invalid, backreferences, or catastrophic backtracking
 * per safe-regex2).
 */
export function validateFilterRule(input: unknown): FilterRuleValidation {
  const result = filterRuleSchema.safeParse(input, { error: humanMessages });
  return result.success ? { ok: true, rule: result.data } : { ok: false, errors: toProblems(result.error.issues) };
}
