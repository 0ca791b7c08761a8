import type { FolderKind } from '@mailroom/db';
import {
  FolderNotFound,
  MailboxUnavailable,
  QuotaExceeded,
  storeGeneratedMessage as store,
  type StoreTx,
} from '@mailroom/mailstore';

/**
 * Stores a message we generated (a DSN) in one of a mailbox's folders, in the caller's
 * transaction, through the mail store: the same quota and status rules as received mail.
 * Returns false when the mailbox refuses it (full, disabled, gone): a DSN has the null sender,
 * so there is nobody to tell, and the delivery's own status already says what happened.
 */
export async function storeGeneratedMessage(
  tx: StoreTx,
  target: { tenantId: string; mailboxId: string; folderKind: FolderKind },
  raw: Buffer,
  summary: {
    envelopeFrom: string;
    envelopeTo: string;
    subject: string | null;
    fromAddress: string;
    messageId: string | null;
  },
): Promise<boolean> {
  try {
    await store(tx, { ...target, raw, ...summary });
    return true;
  } catch (err) {
    if (err instanceof QuotaExceeded || err instanceof MailboxUnavailable || err instanceof FolderNotFound) {
      return false;
    }
    throw err;
  }
}
