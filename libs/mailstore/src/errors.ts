import { LimitExceeded, NotFound, Unavailable } from '@mailroom/core';

/**
 * The mail store's refusals. Each edge maps them: the MTA to SMTP replies (a full mailbox is
 * 452 4.2.2), the IMAP server to `NO [OVERQUOTA]`, the worker to a log line for a DSN it drops.
 */
export type QuotaScope = 'mailbox' | 'tenant';

/** Storing the message would take a mailbox, or its tenant, past its quota. */
export class QuotaExceeded extends LimitExceeded {
  constructor(
    readonly scope: QuotaScope,
    readonly tenantId: string,
    readonly mailboxId: string | null,
  ) {
    super(scope === 'mailbox' ? 'Mailbox full' : "The organisation's storage is full", { scope, tenantId, mailboxId });
  }
}

/** The mailbox exists but takes no mail now (disabled, deleted or being purged). */
export class MailboxUnavailable extends Unavailable {
  constructor(
    readonly tenantId: string,
    readonly mailboxId: string,
    readonly status: string | null,
  ) {
    super(status ? `Mailbox is ${status}` : 'Mailbox does not exist', { tenantId, mailboxId, status });
  }
}

/** A folder named by id or name is not there (deleted under us, or never made). */
export class FolderNotFound extends NotFound {
  constructor(tenantId: string, folder: string) {
    super(`Folder ${folder} does not exist`, { tenantId, folder });
  }
}

export function isQuotaExceeded(err: unknown): err is QuotaExceeded {
  return err instanceof QuotaExceeded;
}
