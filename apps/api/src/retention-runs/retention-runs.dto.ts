import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

export const ListRetentionRunsSchema = z.object({ ...pageQuery }).strict();
export class ListRetentionRunsQuery extends createZodDto(ListRetentionRunsSchema) {}

const tally = z.object({ messages: z.number(), bytes: z.number() });

const RetentionRunSchema = z.object({
  id: z.uuid(),
  runId: z.string().nullable().describe('The worker run this tenant’s part belongs to'),
  status: z.enum(['running', 'succeeded', 'failed']),
  startedAt: z.string(),
  finishedAt: z.string().nullable(),
  messagesDeleted: z.number(),
  bytesFreed: z.number(),
  mailboxes: z.number().describe('Mailboxes that lost mail in this run; one audit entry each'),
  byFolderKind: z.record(z.string(), tally),
});
export class RetentionRunResponse extends createZodDto(RetentionRunSchema) {}
export class RetentionRunPage extends createZodDto(
  z.object({ items: z.array(RetentionRunSchema), nextCursor: z.string().nullable() }),
) {}
