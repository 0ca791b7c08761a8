import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';

const instant = z.iso.datetime({ offset: true, error: 'must be a date-time such as 2026-07-01T00:00:00Z' });

export const PutVacationSchema = z
  .object({
    enabled: z.boolean().default(true),
    subject: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(200)
      .regex(/^[^\p{Cc}]*$/u, 'must be one line without control characters'),
    body: z.string().min(1, 'must not be empty').max(20_000),
    startsAt: instant.nullable().optional().describe('Inclusive; null or absent: from now'),
    endsAt: instant.nullable().optional().describe('Exclusive; null or absent: until turned off'),
    intervalDays: z
      .number()
      .int()
      .min(1, 'must be at least 1 (RFC 5230 §4.1)')
      .max(365)
      .default(7)
      .describe('At most one reply per sender per this many days (RFC 3834 suggests 7)'),
  })
  .strict()
  .superRefine((v, ctx) => {
    if (v.startsAt && v.endsAt && new Date(v.endsAt) <= new Date(v.startsAt)) {
      ctx.addIssue({ code: 'custom', path: ['endsAt'], message: 'must be after startsAt' });
    }
  });
export class PutVacationDto extends createZodDto(PutVacationSchema) {}

export const VacationSchema = z.object({
  mailboxId: z.uuid(),
  enabled: z.boolean(),
  subject: z.string(),
  body: z.string(),
  startsAt: z.string().nullable(),
  endsAt: z.string().nullable(),
  intervalDays: z.number(),
  activeNow: z.boolean().describe('Enabled and inside [startsAt, endsAt) at this moment'),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class VacationResponse extends createZodDto(VacationSchema) {}
