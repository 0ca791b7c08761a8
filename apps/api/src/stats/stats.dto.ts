import { z } from 'zod';
import { createZodDto } from '../common/zod-dto';

const days = z.coerce
  .number()
  .int()
  .min(1)
  .max(90)
  .default(30)
  .describe('How many UTC days back, today included (1 to 90, default 30)');

export const StatsWindowSchema = z.object({ days }).strict();
export class StatsWindowQuery extends createZodDto(StatsWindowSchema) {}

export const StorageStatsQuerySchema = z
  .object({
    limit: z.coerce
      .number()
      .int()
      .min(1)
      .max(50)
      .default(10)
      .describe('How many of the largest mailboxes to name (1 to 50, default 10)'),
  })
  .strict();
export class StorageStatsQuery extends createZodDto(StorageStatsQuerySchema) {}

export const MessageStatsSchema = z.object({
  from: z.string().describe('The first day counted (UTC midnight)'),
  days: z
    .array(
      z.object({
        date: z.string().describe('YYYY-MM-DD (UTC)'),
        in: z.number().describe('Messages that arrived in mailboxes (one per mailbox; Sent copies not counted)'),
        out: z.number().describe('Messages that left: submissions, forwards, bounces (DSNs) and vacation replies'),
      }),
    )
    .describe('Every day of the window, oldest first, days without mail included'),
});
export class MessageStatsResponse extends createZodDto(MessageStatsSchema) {}

export const DELIVERY_OUTCOMES = ['queued', 'sending', 'deferred', 'delivered', 'bounced', 'cancelled'] as const;

export const DeliveryStatsSchema = z.object({
  from: z.string().describe('Deliveries created since (UTC midnight)'),
  total: z.number(),
  outcomes: z
    .array(z.object({ status: z.enum(DELIVERY_OUTCOMES), count: z.number() }))
    .describe('Every status, in this order, zero counts included'),
});
export class DeliveryStatsResponse extends createZodDto(DeliveryStatsSchema) {}

export const StorageStatsSchema = z.object({
  totalBytes: z.number().describe('Stored by every mailbox of the tenant'),
  mailboxCount: z.number(),
  mailboxes: z
    .array(
      z.object({
        id: z.uuid(),
        address: z.string(),
        usedBytes: z.number(),
        quotaBytes: z.number(),
      }),
    )
    .describe('The largest mailboxes, largest first'),
  otherBytes: z.number().describe('Stored by the mailboxes not listed'),
});
export class StorageStatsResponse extends createZodDto(StorageStatsSchema) {}
