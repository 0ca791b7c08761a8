import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';

export const PutLegalHoldSchema = z
  .object({
    reason: z
      .string()
      .trim()
      .min(1, 'must say why: a case or matter reference')
      .max(1000, 'must be at most 1000 characters')
      .describe('Why the mail is held (a case or matter reference); kept in the audit log'),
  })
  .strict();
export class PutLegalHoldDto extends createZodDto(PutLegalHoldSchema) {}

export const LegalHoldSchema = z.object({
  legalHold: z.boolean(),
  reason: z.string().nullable(),
  setBy: z.string().nullable().describe('Email or API key name of who set the hold'),
  setAt: z.string().nullable(),
});
export class LegalHoldResponse extends createZodDto(LegalHoldSchema) {}
