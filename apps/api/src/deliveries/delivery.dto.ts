import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';

const status = z.enum(['queued', 'sending', 'deferred', 'delivered', 'bounced', 'cancelled']);

export const ListDeliveriesSchema = z
  .object({
    ...pageQuery,
    messageId: z.string().max(998).optional().describe('Message-ID header, with or without <>'),
    sender: z.string().max(320).optional().describe('Envelope sender (exact)'),
    recipient: z.string().max(320).optional().describe('Recipient (exact, case-insensitive)'),
    status: status.optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .strict();
export class ListDeliveriesQuery extends createZodDto(ListDeliveriesSchema) {}

export const DeliveryEventSchema = z.object({
  type: z.string(),
  remoteHost: z.string().nullable(),
  remoteIp: z.string().nullable(),
  smtpCode: z.number().nullable(),
  enhancedCode: z.string().nullable(),
  response: z.string().nullable(),
  durationMs: z.number().nullable(),
  createdAt: z.string(),
});

export const DeliverySchema = z.object({
  id: z.uuid(),
  outboundMessageId: z.uuid(),
  kind: z.string().describe('submission, forward, dsn or vacation'),
  messageId: z.string().nullable(),
  sender: z.string(),
  subject: z.string().nullable(),
  recipient: z.string(),
  status,
  attempts: z.number(),
  nextAttemptAt: z.string().nullable(),
  lastResponse: z.string().nullable(),
  lastResponseCode: z.number().nullable(),
  remoteHost: z.string().nullable(),
  deliveredAt: z.string().nullable(),
  createdAt: z.string(),
  events: z.array(DeliveryEventSchema).optional(),
});
export class DeliveryResponse extends createZodDto(DeliverySchema) {}
export class DeliveryPage extends createZodDto(
  z.object({ items: z.array(DeliverySchema), nextCursor: z.string().nullable() }),
) {}

export const TraceSchema = z
  .object({
    messageId: z.string().max(998).optional(),
    recipient: z.string().max(320).optional(),
    from: z.iso.datetime({ offset: true }).optional(),
    to: z.iso.datetime({ offset: true }).optional(),
  })
  .strict()
  .refine((q) => q.messageId || q.recipient, {
    message: 'give messageId, or recipient (with from/to)',
    path: ['messageId'],
  });
export class TraceQuery extends createZodDto(TraceSchema) {}

export const TraceResponseSchema = z.object({
  inbound: z.array(
    z.object({
      messageId: z.string().nullable(),
      mailbox: z.string().describe('The mailbox address it was stored in'),
      folder: z.string(),
      envelopeFrom: z.string().describe("'' for the null sender"),
      envelopeTo: z.string(),
      remoteIp: z.string().nullable(),
      spamScore: z.number().nullable(),
      authResults: z.unknown().describe('SPF, DKIM, DMARC and ARC verdicts (null when not checked)'),
      filterTrace: z.unknown().describe('Which filter rules fired and which actions ran (null when none)'),
      receivedAt: z.string(),
    }),
  ),
  outbound: z.array(
    z.object({
      id: z.uuid(),
      kind: z.string().describe('submission, forward, dsn or vacation'),
      messageId: z.string().nullable(),
      envelopeFrom: z.string(),
      subject: z.string().nullable(),
      createdAt: z.string(),
      deliveries: z.array(DeliverySchema),
    }),
  ),
});
export class TraceResponse extends createZodDto(TraceResponseSchema) {}

export const CreateSuppressionSchema = z
  .object({
    address: z
      .email()
      .max(320)
      .transform((v) => v.toLowerCase()),
    detail: z.string().max(500).optional(),
  })
  .strict();
export class CreateSuppressionDto extends createZodDto(CreateSuppressionSchema) {}

export const ListSuppressionsSchema = z.object({ ...pageQuery, q: z.string().max(320).optional() }).strict();
export class ListSuppressionsQuery extends createZodDto(ListSuppressionsSchema) {}

export const SuppressionSchema = z.object({
  id: z.uuid(),
  address: z.string(),
  reason: z.enum(['hard_bounce', 'complaint', 'manual']),
  detail: z.string().nullable(),
  createdAt: z.string(),
});
export class SuppressionResponse extends createZodDto(SuppressionSchema) {}
export class SuppressionPage extends createZodDto(
  z.object({ items: z.array(SuppressionSchema), nextCursor: z.string().nullable() }),
) {}
