import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

const limits = z
  .object({
    maxDomains: z.number().int().min(0).max(1_000_000).optional(),
    maxMailboxes: z.number().int().min(0).max(100_000_000).optional(),
    storageQuotaBytes: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
  })
  .strict()
  .describe('Plan limits; omitted fields keep their value (defaults: 10 domains, 100 mailboxes, 10 GiB)');

const name = z.string().trim().min(1, 'must not be empty').max(200, 'must be at most 200 characters');

export const CreateTenantSchema = z
  .object({
    name,
    resellerId: z.uuid().optional().describe('Platform admins only; a reseller creates tenants under itself'),
    limits: limits.optional(),
    smtputf8Enabled: z.boolean().optional(),
  })
  .strict();
export class CreateTenantDto extends createZodDto(CreateTenantSchema) {}

export const UpdateTenantSchema = z
  .object({ name: name.optional(), limits: limits.optional(), smtputf8Enabled: z.boolean().optional() })
  .strict();
export class UpdateTenantDto extends createZodDto(UpdateTenantSchema) {}

export const SuspendTenantSchema = z.object({ reason: z.string().trim().max(500).optional() }).strict();
export class SuspendTenantDto extends createZodDto(SuspendTenantSchema) {}

export const ListTenantsSchema = z
  .object({
    ...pageQuery,
    sort: z.string().optional().describe('createdAt, name; prefix - for descending (default -createdAt)'),
    status: z.enum(['active', 'suspended', 'deleted']).optional(),
    q: z.string().trim().max(200).optional().describe('Name contains (case-insensitive)'),
    resellerId: z.uuid().optional(),
    include: z
      .enum(['usage'])
      .optional()
      .describe("usage: each tenant with its usage, as GET /v1/tenants/{tenantId} gives it (the reseller's overview)"),
  })
  .strict();
export class ListTenantsQuery extends createZodDto(ListTenantsSchema) {}

export const TenantSchema = z.object({
  id: z.uuid(),
  resellerId: z.uuid().nullable(),
  name: z.string(),
  status: z.enum(['active', 'suspended', 'deleted']),
  statusReason: z.string().nullable(),
  limits: z.object({ maxDomains: z.number(), maxMailboxes: z.number(), storageQuotaBytes: z.number() }),
  smtputf8Enabled: z.boolean(),
  legalHold: z.boolean(),
  deletedAt: z.string().nullable(),
  purgeAfter: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
  usage: z
    .object({
      domains: z.number(),
      mailboxes: z.number(),
      storageBytes: z.number(),
      messagesIn24h: z.number(),
      messagesOut24h: z.number(),
    })
    .optional(),
});
export class TenantResponse extends createZodDto(TenantSchema) {}
export class TenantPage extends createZodDto(
  z.object({ items: z.array(TenantSchema), nextCursor: z.string().nullable() }),
) {}
