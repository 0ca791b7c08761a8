import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { AUTH_RESULTS, filterRuleSchema, SPAM_VERDICTS } from '@mailroom/rules';
import { pageQuery } from '../common/pagination';

export const MAX_FILTERS_PER_MAILBOX = 100;

/** For the OpenAPI document only: bodies are validated by libs/rules validateFilterRule. */
export class FilterRuleBody extends createZodDto(filterRuleSchema) {}
export class FilterRulePatchBody extends createZodDto(filterRuleSchema.partial()) {}

export const ListFiltersSchema = z
  .object({ ...pageQuery, sort: z.string().optional().describe('position (the default; the order rules run in)') })
  .strict();
export class ListFiltersQuery extends createZodDto(ListFiltersSchema) {}

export const ReorderFiltersSchema = z
  .object({
    ids: z
      .array(z.uuid('must be a filter id'))
      .max(MAX_FILTERS_PER_MAILBOX)
      .describe('Every filter id of the mailbox, once, in the new order'),
  })
  .strict();
export class ReorderFiltersDto extends createZodDto(ReorderFiltersSchema) {}

export const TestFiltersSchema = z
  .object({
    message: z
      .string()
      .min(1, 'must not be empty')
      .max(1_000_000)
      .describe('A raw RFC 5322 message (headers, blank line, body)'),
    spamScore: z.number().nullable().optional().describe('As the spam filter would have scored it'),
    spamVerdict: z.enum(SPAM_VERDICTS).nullable().optional(),
    auth: z
      .object({
        spf: z.enum(AUTH_RESULTS).optional(),
        dkim: z.enum(AUTH_RESULTS).optional(),
        dmarc: z.enum(AUTH_RESULTS).optional(),
      })
      .strict()
      .optional()
      .describe('SPF, DKIM and DMARC results to assume (default none)'),
  })
  .strict();
export class TestFiltersDto extends createZodDto(TestFiltersSchema) {}

export const FilterSchema = z.object({
  id: z.uuid(),
  mailboxId: z.uuid(),
  position: z.number().describe('Rules run in ascending position'),
  name: z.string(),
  enabled: z.boolean(),
  matchMode: z.enum(['all', 'any']),
  conditions: z.array(z.unknown()),
  actions: z.array(z.unknown()),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class FilterResponse extends createZodDto(FilterSchema) {}
export class FilterPage extends createZodDto(
  z.object({ items: z.array(FilterSchema), nextCursor: z.string().nullable() }),
) {}
export class FilterList extends createZodDto(z.object({ items: z.array(FilterSchema) })) {}

export class FilterTestResult extends createZodDto(
  z.object({
    matched: z.array(z.object({ id: z.uuid(), name: z.string(), position: z.number() })),
    stopped: z.boolean().describe('A stop or reject ended processing'),
    plan: z.object({
      keep: z.boolean(),
      folder: z.string().nullable().describe('null: the inbox'),
      markRead: z.boolean(),
      flagged: z.boolean(),
      forwards: z.array(z.string()),
      redirects: z.array(z.string()),
      discard: z.boolean(),
      reject: z.string().nullable(),
    }),
  }),
) {}
