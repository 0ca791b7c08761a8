import { createZodDto } from '../common/zod-dto';
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
  // Any JSON value, null included: `.nullable()` on unknown would only say "anything or null".
  before: z.unknown().describe('The object before the change (null when it was created)'),
  after: z.unknown().describe('The object after the change (null when it was deleted)'),
  ip: z.string().nullable(),
  requestId: z.string().nullable(),
  createdAt: z.string(),
});
export class AuditPage extends createZodDto(
  z.object({ items: z.array(AuditEntrySchema), nextCursor: z.string().nullable() }),
) {}
