import { createZodDto } from '../common/zod-dto';
import { z } from 'zod';
import { pageQuery } from '../common/pagination';
import { MAX_MAILBOX_PASSWORD } from './password-policy';

const MIB = 1024 * 1024;
const quotaBytes = z
  .number()
  .int()
  .min(MIB, 'must be at least 1 MiB (1048576 bytes)')
  .max(Number.MAX_SAFE_INTEGER)
  .describe('Bytes; at most the tenant’s storageQuotaBytes (default: 1 GiB)');
const displayName = z.string().trim().max(200, 'must be at most 200 characters');
const protocols = z
  .object({ smtp: z.boolean().optional(), imap: z.boolean().optional(), pop3: z.boolean().optional() })
  .strict()
  .describe('SMTP submission, IMAP and POP3 logins; a disabled protocol refuses login saying so');
const pop3DeleteMode = z.enum(['delete', 'keep', 'trash']);
const pop3Update = z
  .object({
    folders: z
      .array(z.string().trim().min(1, 'must not be empty').max(255))
      .min(1, 'give at least one folder')
      .max(20, 'must have at most 20 folders')
      .optional()
      .describe('Folder names POP3 serves, each one of this mailbox (INBOX in any case is the Inbox)'),
    markRead: z.boolean().optional().describe('A POP3 download (RETR) marks the message read'),
    deleteMode: pop3DeleteMode
      .optional()
      .describe('DELE: delete removes the message; keep leaves it on the server; trash moves it to Trash'),
  })
  .strict()
  .describe('What POP3 clients see and may do (as hosted providers offer it)');
const password = z.string().max(MAX_MAILBOX_PASSWORD).describe('At least 12 characters; stored as argon2id');

export const CreateMailboxSchema = z
  .object({
    localPart: z.string().trim().min(1, 'must not be empty').max(256).describe('Before the @; lower-cased'),
    domain: z.string().trim().min(1).max(253).optional().describe('Domain name (or give domainId)'),
    domainId: z.string().optional(),
    displayName: displayName.optional(),
    password: password.optional(),
    generatePassword: z.boolean().optional().describe('Generate a strong password, returned once'),
    quotaBytes: quotaBytes.optional(),
    protocols: protocols.optional(),
  })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.domain === undefined) === (v.domainId === undefined)) {
      ctx.addIssue({ code: 'custom', path: ['domain'], message: 'give exactly one of domain or domainId' });
    }
    if ((v.password === undefined) === (v.generatePassword !== true)) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give a password or generatePassword: true' });
    }
  });
export class CreateMailboxDto extends createZodDto(CreateMailboxSchema) {}

export const UpdateMailboxSchema = z
  .object({
    displayName: displayName.nullable().optional(),
    quotaBytes: quotaBytes.optional(),
    status: z.enum(['active', 'disabled']).optional().describe('disabled: refuses logins and incoming mail'),
    protocols: protocols.optional(),
    pop3: pop3Update.optional(),
  })
  .strict();
export class UpdateMailboxDto extends createZodDto(UpdateMailboxSchema) {}

export const SetPasswordSchema = z
  .object({ password: password.optional(), generate: z.boolean().optional() })
  .strict()
  .superRefine((v, ctx) => {
    if ((v.password === undefined) === (v.generate !== true)) {
      ctx.addIssue({ code: 'custom', path: ['password'], message: 'give a password or generate: true' });
    }
  });
export class SetPasswordDto extends createZodDto(SetPasswordSchema) {}

export const ListMailboxesSchema = z
  .object({
    ...pageQuery,
    sort: z.string().optional().describe('localPart, createdAt; prefix - for descending (default localPart)'),
    q: z.string().trim().max(320).optional().describe('Address or display name contains (case-insensitive)'),
    domain: z.string().trim().max(253).optional().describe('Only this domain (name)'),
    status: z
      .enum(['active', 'disabled', 'deleted'])
      .optional()
      .describe('Default: active and disabled; deleted ones are listed only when asked for'),
  })
  .strict();
export class ListMailboxesQuery extends createZodDto(ListMailboxesSchema) {}

export const MailboxSchema = z.object({
  id: z.uuid(),
  address: z.string(),
  localPart: z.string(),
  domain: z.object({ id: z.uuid(), name: z.string() }),
  displayName: z.string().nullable(),
  status: z.enum(['active', 'disabled', 'deleted']),
  protocols: z.object({ smtp: z.boolean(), imap: z.boolean(), pop3: z.boolean() }),
  pop3: z.object({
    folders: z.array(z.string()).describe('Folder names POP3 serves; the Inbox first'),
    markRead: z.boolean(),
    deleteMode: pop3DeleteMode,
  }),
  usage: z.object({
    usedBytes: z.number(),
    quotaBytes: z.number(),
    percent: z.number().describe('usedBytes of quotaBytes, one decimal'),
    messageCount: z.number(),
  }),
  legalHold: z.boolean(),
  deletedAt: z.string().nullable(),
  createdAt: z.string(),
  updatedAt: z.string(),
});
export class MailboxResponse extends createZodDto(MailboxSchema) {}
export class CreatedMailboxResponse extends createZodDto(
  MailboxSchema.extend({ password: z.string().optional().describe('Only when generated: shown this once') }),
) {}
export class MailboxPage extends createZodDto(
  z.object({ items: z.array(MailboxSchema), nextCursor: z.string().nullable() }),
) {}
export class PasswordChangedResponse extends createZodDto(
  z.object({
    id: z.uuid(),
    address: z.string(),
    password: z.string().optional().describe('Only when generated: shown this once'),
  }),
) {}

export const ImportMailboxesSchema = z
  .object({ csv: z.string().min(1, 'must not be empty').describe('The CSV text, header line first') })
  .strict();
export class ImportMailboxesDto extends createZodDto(ImportMailboxesSchema) {}

const ImportRowSchema = z.object({
  line: z.number().describe('Line of the CSV where the row starts'),
  address: z.string(),
  status: z.enum(['created', 'skipped', 'failed']),
  id: z.uuid().optional(),
  password: z.string().optional().describe('Generated password: shown this once'),
  reason: z.string().optional(),
});
export class ImportReport extends createZodDto(
  z.object({
    created: z.number(),
    skipped: z.number(),
    failed: z.number(),
    rows: z.array(ImportRowSchema),
  }),
) {}
export type ImportRow = z.infer<typeof ImportRowSchema>;
