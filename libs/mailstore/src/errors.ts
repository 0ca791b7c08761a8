import { Conflict, Forbidden, LimitExceeded, NotFound, Unavailable, ValidationFailed } from '@mailroom/core';

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

/** CREATE or RENAME to a name the mailbox already has (IMAP `NO [ALREADYEXISTS]`). */
export class FolderExists extends Conflict {
  constructor(tenantId: string, name: string) {
    super(`Folder ${name} already exists`, { tenantId, name });
  }
}

/** A folder name IMAP cannot carry or we refuse (empty level, control characters, too long). */
export class InvalidFolderName extends ValidationFailed {
  constructor(name: string, reason: string) {
    super(`Invalid folder name: ${reason}`, [{ field: 'name', message: reason }]);
    this.details['name'] = name;
  }
}

/** DELETE or RENAME of INBOX or a special-use folder (IMAP `NO [CANNOT]`). */
export class FolderProtected extends Forbidden {
  constructor(tenantId: string, name: string) {
    super(`Folder ${name} cannot be deleted or renamed`, { tenantId, name });
  }
}

/**
 * DELETE of a folder that has inferiors. RFC 3501 6.3.4 would keep the name as \Noselect; we
 * keep no message-less names, so, as Dovecot does, the client deletes the children first.
 */
export class FolderHasChildren extends Conflict {
  constructor(tenantId: string, name: string) {
    super(`Folder ${name} has subfolders; delete them first`, { tenantId, name });
  }
}

/** A blob read by hash that is not (or no longer) stored for the tenant. */
export class BlobNotFound extends NotFound {
  constructor(tenantId: string, sha256: string) {
    super(`Message content ${sha256} is not stored`, { tenantId, sha256 });
  }
}
