import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { ALL_SCOPES } from '@mailroom/core';

const scope = z.enum(ALL_SCOPES as [string, ...string[]]);

export const CreateApiKeySchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(100),
    scopes: z
      .array(scope)
      .min(1, 'grant at least one scope, e.g. mailboxes:read')
      .max(ALL_SCOPES.length)
      .refine((s) => new Set(s).size === s.length, 'must not repeat a scope')
      .describe(`Least privilege: resource:read or resource:write, from ${ALL_SCOPES.join(', ')}`),
    domains: z
      .array(z.string().trim().toLowerCase().min(1).max(253))
      .max(100)
      .default([])
      .describe('Limit the key to these domains (empty: every domain of the tenant)'),
    ipAllowlist: z
      .array(z.string().trim().max(64))
      .max(100)
      .default([])
      .describe('CIDR ranges (IPv4 or IPv6) the key may be used from (empty: anywhere)'),
    expiresAt: z.iso
      .datetime({ offset: true })
      .optional()
      .refine((v) => v === undefined || new Date(v).getTime() > Date.now(), 'must be in the future')
      .describe('When the key stops working'),
  })
  .strict();
export class CreateApiKeyDto extends createZodDto(CreateApiKeySchema) {}

export const ApiKeySchema = z.object({
  id: z.uuid(),
  name: z.string(),
  prefix: z.string(),
  ownerType: z.enum(['tenant', 'reseller']),
  tenantId: z.uuid().nullable(),
  resellerId: z.uuid().nullable(),
  scopes: z.array(z.string()),
  domains: z.array(z.string()),
  ipAllowlist: z.array(z.string()),
  expiresAt: z.string().nullable(),
  lastUsedAt: z.string().nullable(),
  lastUsedIp: z.string().nullable(),
  revokedAt: z.string().nullable(),
  createdBy: z.string().nullable(),
  createdAt: z.string(),
});
export class ApiKeyResponse extends createZodDto(ApiKeySchema) {}
export class CreatedApiKeyResponse extends createZodDto(
  ApiKeySchema.extend({ key: z.string().describe('The key itself: shown this once, stored only as a hash') }),
) {}
export class ApiKeyList extends createZodDto(
  z.object({ items: z.array(ApiKeySchema), nextCursor: z.string().nullable() }),
) {}
