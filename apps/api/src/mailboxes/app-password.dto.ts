import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';

export const APP_PASSWORD_PROTOCOLS = ['imap', 'pop3', 'smtp'] as const;
export const MAX_APP_PASSWORDS = 50;

export const CreateAppPasswordSchema = z
  .object({
    name: z
      .string()
      .trim()
      .min(1, 'must not be empty')
      .max(100, 'must be at most 100 characters')
      .describe('Which device or program it is for, e.g. "Thunderbird at home"'),
    protocols: z
      .array(z.enum(APP_PASSWORD_PROTOCOLS))
      .min(1, 'give at least one of imap, pop3, smtp')
      .refine((list) => new Set(list).size === list.length, 'must not repeat a protocol')
      .describe('Where it may log in: imap, pop3, smtp (submission)'),
  })
  .strict();
export class CreateAppPasswordDto extends createZodDto(CreateAppPasswordSchema) {}

export const AppPasswordSchema = z.object({
  id: z.uuid(),
  mailboxId: z.uuid(),
  name: z.string(),
  protocols: z.array(z.enum(APP_PASSWORD_PROTOCOLS)),
  createdAt: z.string(),
  lastUsedAt: z.string().nullable().describe('Recorded at most once a minute'),
  lastUsedIp: z.string().nullable(),
});
export class AppPasswordResponse extends createZodDto(AppPasswordSchema) {}
export class CreatedAppPasswordResponse extends createZodDto(
  AppPasswordSchema.extend({
    password: z
      .string()
      .describe('16 letters in groups of four (spaces optional when typed); shown this once, only a hash is kept'),
  }),
) {}
export class AppPasswordList extends createZodDto(z.object({ items: z.array(AppPasswordSchema) })) {}
