import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

export const MAX_DESTINATIONS = 100;

const destinations = z
  .array(z.string().trim().min(1, 'must not be empty').max(320))
  .min(1, 'give at least one destination')
  .max(MAX_DESTINATIONS, `must have at most ${MAX_DESTINATIONS} destinations`)
  .describe('Full addresses: mailboxes or aliases of this tenant, or addresses outside the platform');
const description = z.string().trim().max(500);

export const CreateAliasSchema = z
  .object({
    localPart: z.string().trim().min(1, 'must not be empty').max(256).describe('Before the @; * for a catch-all'),
    domain: z.string().trim().min(1).max(253).optional().describe('Domain name (or give domainId)'),
    domainId: z.string().optional(),
    destinations,
    enabled: z.boolean().optional(),
    description: description.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.domain === undefined) === (v.domainId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['domain'], message: 'give exactly one of domain or domainId' });
    }
  });
export class CreateAliasDto extends createZodDto(CreateAliasSchema) {}

export const UpdateAliasSchema = z
  .object({
    destinations: destinations.optional(),
    enabled: z.boolean().optional(),
    description: description.nullable().optional(),
  })
  .strict();
export class UpdateAliasDto extends createZodDto(UpdateAliasSchema) {}

export const ListAliasesSchema = z
  .object({
    ...pageQuery,
    sort: z.string().optional().describe('localPart, createdAt; prefix - for descending (default localPart)'),
    q: z.string().trim().max(320).optional().describe('Source or a destination contains (case-insensitive)'),
    domain: z.string().trim().max(253).optional(),
    catchAll: z.enum(['true', 'false']).optional(),
    system: z.enum(['true', 'false']).optional(),
  })
  .strict();
export class ListAliasesQuery extends createZodDto(ListAliasesSchema) {}

export const AliasSchema = z.object({
  id: z.uuid(),
  address: z.string(),
  localPart: z.string(),
  domain: z.object({ id: z.uuid(), name: z.string() }),
  catchAll: z.boolean(),
  destinations: z.array(z.string()),
  enabled: z.boolean(),
  description: z.string().nullable(),
  system: z.boolean().describe('postmaster@ and abuse@: destinations can change, the alias cannot be deleted'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class AliasResponse extends createZodDto(AliasSchema) {}
export class AliasPage extends createZodDto(
  z.object({ items: z.array(AliasSchema), nextCursor: z.string().nullable() }),
) {}
