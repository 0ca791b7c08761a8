import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

export const FOLDER_KINDS = ['inbox', 'sent', 'drafts', 'trash', 'junk', 'archive', 'custom'] as const;
export type FolderKindName = (typeof FOLDER_KINDS)[number];
/** Trash and Junk are emptied after this many days unless a policy says otherwise. */
export const DEFAULT_DAYS: Partial<Record<FolderKindName, number>> = { trash: 30, junk: 30 };
export const MAX_RETENTION_DAYS = 36_500;

const days = z.number().int().min(1, 'must be at least 1 day').max(MAX_RETENTION_DAYS, 'must be at most 36500 days');
const dayMap = (describe: string) =>
  z
    .object(
      Object.fromEntries(FOLDER_KINDS.map((k) => [k, days.optional()])) as Record<
        FolderKindName,
        z.ZodOptional<typeof days>
      >,
    )
    .strict()
    .describe(describe);

export const PutTenantRetentionSchema = z
  .object({
    days: dayMap('Maximum age in days per folder kind. Omitted: trash and junk 30, other kinds kept without limit.'),
  })
  .strict();
export class PutTenantRetentionDto extends createZodDto(PutTenantRetentionSchema) {}

export const PutMailboxRetentionSchema = z
  .object({ days: dayMap('Overrides for this mailbox; omitted kinds follow the tenant policy') })
  .strict();
export class PutMailboxRetentionDto extends createZodDto(PutMailboxRetentionSchema) {}

const fullDays = z.object(
  Object.fromEntries(FOLDER_KINDS.map((k) => [k, z.number().nullable()])) as Record<
    FolderKindName,
    z.ZodNullable<z.ZodNumber>
  >,
);
const partialDays = z.record(z.string(), z.number());

export class TenantRetentionResponse extends createZodDto(
  z.object({
    days: fullDays.describe('Effective days per folder kind; null: kept without limit'),
    configured: partialDays.describe('What the tenant set; the rest are defaults'),
  }),
) {}

const MailboxRetentionSchema = z.object({
  mailboxId: z.uuid(),
  address: z.string(),
  overrides: partialDays,
  effective: fullDays.describe('Override, else tenant policy, else default; null: no limit'),
});
export class MailboxRetentionResponse extends createZodDto(MailboxRetentionSchema) {}
export class MailboxRetentionPage extends createZodDto(
  z.object({ items: z.array(MailboxRetentionSchema), nextCursor: z.string().nullable() }),
) {}

export const ListMailboxRetentionSchema = z
  .object({ ...pageQuery, sort: z.string().optional().describe('createdAt (of the mailbox); - for descending') })
  .strict();
export class ListMailboxRetentionQuery extends createZodDto(ListMailboxRetentionSchema) {}
