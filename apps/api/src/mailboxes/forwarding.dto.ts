import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';

export const MAX_FORWARD_TARGETS = 10;

export const PutForwardingSchema = z
  .object({
    targets: z
      .array(z.string().trim().min(1, 'must not be empty').max(320))
      .min(1, 'give at least one target')
      .max(MAX_FORWARD_TARGETS, `must have at most ${MAX_FORWARD_TARGETS} targets`)
      .describe('Addresses outside this tenant’s domains'),
    keepCopy: z.boolean().default(true).describe('false: only forward; the forward still shows in the delivery log'),
    enabled: z.boolean().default(true),
  })
  .strict();
export class PutForwardingDto extends createZodDto(PutForwardingSchema) {}

export const ForwardingSchema = z.object({
  mailboxId: z.uuid(),
  targets: z.array(z.string()),
  keepCopy: z.boolean(),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class ForwardingResponse extends createZodDto(ForwardingSchema) {}
