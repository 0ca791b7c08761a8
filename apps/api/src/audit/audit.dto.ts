import { createZodDto } from 'nestjs-zod';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

export const ListAuditSchema = z
  .object({
    ...pageQuery,
    actor: z.string().max(200).optional().describe('Actor id (user or API key id)'),
    action: z
      .string()
      .max(100)
      .optional()
      .describe('Exact action, e.g. api_key.create, or a prefix ending in * (api_key.*)'),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export class ListAuditQuery extends createZodDto(ListAuditSchema) {}

export const AuditEntrySchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid().nullable(),
  actorType: z.enum(['user', 'api_key', 'system']),
  actorId: z.string().nullable(),
  actorLabel: z.string().nullable(),
  action: z.string(),
  targetType: z.string().nullable(),
  targetId: z.string().nullable(),
  before: z.unknown().nullable(),
  after: z.unknown().nullable(),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  createdAt: z.string(),
});
export class AuditPage extends createZodDto(
  z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }),
) {}
