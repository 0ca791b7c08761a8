import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { WEBHOOK_EVENTS } from '@mailroom/webhooks';
import { pageQuery } from '../common/pagination';

const events = z
  .array(z.enum(['*', ...WEBHOOK_EVENTS]))
  .min(1, 'subscribe to at least one event, or *')
  .describe(`Events to receive: ${WEBHOOK_EVENTS.join(', ')}, or * for all`);
const url = z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).max(2000);

export const CreateWebhookSchema = z.object({ url, events, enabled: z.boolean().optional() }).strict();
export class CreateWebhookDto extends createZodDto(CreateWebhookSchema) {}

export const UpdateWebhookSchema = z
  .object({ url: url.optional(), events: events.optional(), enabled: z.boolean().optional() })
  .strict();
export class UpdateWebhookDto extends createZodDto(UpdateWebhookSchema) {}

export const WebhookSchema = z.object({
  id: z.uuid(),
  url: z.string(),
  events: z.array(z.string()),
  enabled: z.boolean(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class WebhookResponse extends createZodDto(WebhookSchema) {}
export class CreatedWebhookResponse extends createZodDto(
  WebhookSchema.extend({
    secret: z.string().describe('HMAC-SHA256 signing secret, shown this once (see Mailroom-Signature)'),
  }),
) {}
export class WebhookPage extends createZodDto(
  z.object({ items: z.array(WebhookSchema), nextCursor: z.string().nullable() }),
) {}

export const ListDeliveriesSchema = z
  .object({ ...pageQuery, status: z.enum(['pending', 'delivered', 'failed']).optional() })
  .strict();
export class ListWebhookDeliveriesQuery extends createZodDto(ListDeliveriesSchema) {}

export class WebhookDeliveryPage extends createZodDto(
  z.object({
    items: z.array(
      z.object({
        id: z.uuid(),
        event: z.string(),
        status: z.enum(['pending', 'delivered', 'failed']),
        attempts: z.number(),
        lastStatusCode: z.number().nullable(),
        lastError: z.string().nullable(),
        payload: z.unknown(),
        createdAt: z.string(),
        deliveredAt: z.string().nullable(),
      }),
    ),
    nextCursor: z.string().nullable(),
  }),
) {}
