import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

export const CreateDomainSchema = z
  .object({
    name: z.string().trim().min(1, 'must not be empty').max(253).describe('The domain, in Unicode or punycode'),
    aliasOf: z
      .string()
      .trim()
      .max(253)
      .optional()
      .describe('Name or id of another domain of the tenant: x@this goes where x@that goes'),
  })
  .strict();
export class CreateDomainDto extends createZodDto(CreateDomainSchema) {}

export const ListDomainsSchema = z
  .object({
    ...pageQuery,
    sort: z.string().optional().describe('name, createdAt; prefix - for descending (default name)'),
    status: z.enum(['pending', 'verified', 'active', 'degraded', 'suspended']).optional(),
    q: z.string().trim().max(253).optional().describe('Name contains'),
  })
  .strict();
export class ListDomainsQuery extends createZodDto(ListDomainsSchema) {}

const DkimSchema = z.object({
  selector: z.string(),
  status: z.enum(['pending', 'active', 'retiring', 'retired']),
  activatedAt: z.string().nullable(),
});

export const DomainSchema = z.object({
  id: z.uuid(),
  tenantId: z.uuid(),
  name: z.string().describe('Punycode'),
  unicodeName: z.string(),
  status: z.enum(['pending', 'verified', 'active', 'degraded', 'suspended']),
  aliasOf: z.string().nullable().describe('The domain this one is an alias of'),
  dkim: z.array(DkimSchema),
  verifiedAt: z.string().nullable(),
  activatedAt: z.string().nullable(),
  lastCheckedAt: z.string().nullable(),
  nextCheckAt: z.string().nullable(),
  deletedAt: z.string().nullable(),
  createdAt: z.string(),
});
export class DomainResponse extends createZodDto(DomainSchema) {}
export class DomainPage extends createZodDto(
  z.object({ items: z.array(DomainSchema), nextCursor: z.string().nullable() }),
) {}

export const DnsRecordSchema = z.object({
  key: z.string(),
  purpose: z.string(),
  type: z.string(),
  name: z.string().describe('Absolute name'),
  host: z.string().describe('Relative to the domain, as DNS panels ask for it (@, _dmarc, ...)'),
  value: z.string(),
  ttl: z.number(),
  priority: z.number().optional(),
  weight: z.number().optional(),
  port: z.number().optional(),
  required: z.boolean().describe('Counted for verification: ownership, MX, SPF, DKIM'),
  note: z.string().optional(),
  status: z
    .enum(['pending', 'ok', 'missing', 'mismatch', 'error'])
    .describe('error: could not check (timeout, SERVFAIL)'),
  found: z.array(z.string()),
  message: z.string().nullable().describe('What the last check found, for a human'),
  checkedAt: z.string().nullable(),
});
export class DnsPlanResponse extends createZodDto(
  z.object({ domain: DomainSchema, records: z.array(DnsRecordSchema) }),
) {}
