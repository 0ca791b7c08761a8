import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

export const MAX_IP_RULES = 1000;

const service = z.enum(['submission', 'pop3', 'imap']);
const action = z.enum(['allow', 'deny']);
const priority = z.number().int().min(0).max(10_000).describe('Lower runs first (default 100)');
const cidr = z
  .string()
  .trim()
  .min(1, 'must not be empty')
  .max(64)
  .describe('IPv4 or IPv6 CIDR; a bare address is one host');
const description = z.string().trim().max(500);

export const CreateIpRuleSchema = z
  .object({ cidr, action, service, priority: priority.default(100), description: description.optional() })
  .strict();
export class CreateIpRuleDto extends createZodDto(CreateIpRuleSchema) {}

export const UpdateIpRuleSchema = z
  .object({
    cidr: cidr.optional(),
    action: action.optional(),
    service: service.optional(),
    priority: priority.optional(),
    description: description.nullable().optional(),
  })
  .strict();
export class UpdateIpRuleDto extends createZodDto(UpdateIpRuleSchema) {}

export const ListIpRulesSchema = z
  .object({
    ...pageQuery,
    sort: z.string().optional().describe('priority, createdAt; prefix - for descending (default priority)'),
    service: service.optional(),
    action: action.optional(),
  })
  .strict();
export class ListIpRulesQuery extends createZodDto(ListIpRulesSchema) {}

export const CheckIpSchema = z
  .object({ service, ip: z.string().trim().min(1, 'must not be empty').max(64).describe('A client address') })
  .strict();
export class CheckIpDto extends createZodDto(CheckIpSchema) {}

export const IpRuleSchema = z.object({
  id: z.uuid(),
  cidr: z.string(),
  action,
  service,
  priority: z.number(),
  description: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class IpRuleResponse extends createZodDto(IpRuleSchema) {}
export class IpRulePage extends createZodDto(
  z.object({ items: z.array(IpRuleSchema), nextCursor: z.string().nullable() }),
) {}
export class IpCheckResult extends createZodDto(
  z.object({
    allowed: z.boolean(),
    reason: z.string(),
    rule: IpRuleSchema.nullable().describe('The rule that decided'),
  }),
) {}
