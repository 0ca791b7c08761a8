import type { MailboxListRow } from './mailbox.repository';
import type { MailboxResponse } from './mailbox.dto';

export type MailboxView = MailboxResponse;

/** Usage in percent of the quota, one decimal; a zero quota with mail in it is 100. */
export function percentOf(used: bigint, quota: bigint): number {
  if (quota <= 0n) return used > 0n ? 100 : 0;
  return Math.round((Number(used) / Number(quota)) * 1000) / 10;
}

/** The API's view of a mailbox. The password hash never leaves the service. */
export function presentMailbox(m: MailboxListRow): MailboxView {
  return {
    id: m.id,
    address: `${m.localPart}@${m.domain.name}`,
    localPart: m.localPart,
    domain: { id: m.domain.id, name: m.domain.name },
    displayName: m.displayName,
    status: m.status,
    protocols: { smtp: m.smtpEnabled, imap: m.imapEnabled, pop3: m.pop3Enabled },
    pop3: {
      folders: m.pop3Folders,
      markRead: m.pop3MarkRead,
      // The column's CHECK constraint holds it to these three.
      deleteMode: m.pop3DeleteMode as MailboxView['pop3']['deleteMode'],
    },
    usage: {
      usedBytes: Number(m.usedBytes),
      quotaBytes: Number(m.quotaBytes),
      percent: percentOf(m.usedBytes, m.quotaBytes),
      messageCount: m.messageCount,
    },
    legalHold: m.legalHold,
    deletedAt: m.deletedAt?.toISOString() ?? null,
    createdAt: m.createdAt.toISOString(),
    updatedAt: m.updatedAt.toISOString(),
  };
}
