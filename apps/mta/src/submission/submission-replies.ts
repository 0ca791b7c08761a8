import { smtpReply } from '../core/smtp-reply';

/**
 * Every reply of the submission ports, worded as users know them from hosted providers. Wrong
 * credentials, unknown logins and locked accounts share one text, so AUTH never tells whether an
 * account exists; the more helpful sentences come only after the password was verified.
 */
export const submissionReplies = {
  authRequired: '5.7.0 Authentication required',
  startTlsFirst: '5.7.0 Must issue a STARTTLS command first',
  authFailed: () => smtpReply(535, '5.7.8', 'Authentication credentials invalid'),
  submissionDisabled: () => smtpReply(535, '5.7.8', 'SMTP submission is disabled for this mailbox'),
  mailboxDisabled: () => smtpReply(535, '5.7.8', 'This mailbox is disabled; ask your administrator to enable it'),
  serviceSuspended: () =>
    smtpReply(535, '5.7.1', "Sending is suspended for this mailbox's domain or organisation; ask your administrator"),
  ipDenied: () => smtpReply(535, '5.7.1', 'Access denied: your IP address is not allowed to send for this mailbox'),
  authzidMismatch: () =>
    smtpReply(
      535,
      '5.7.8',
      'Authentication credentials invalid: the authorization identity must be empty or equal to the login',
    ),
  senderNotOwned: (address: string, login: string) =>
    smtpReply(553, '5.7.1', `<${address}>: Sender address rejected: not owned by user ${login}`),
  nullSender: (login: string) =>
    smtpReply(
      553,
      '5.7.1',
      `<>: Sender address rejected: not owned by user ${login}; the null sender is for bounces only`,
    ),
  fromHeaderNotOwned: (address: string, login: string) =>
    smtpReply(553, '5.7.1', `<${address}>: Sender address rejected: not owned by user ${login} (From header)`),
  noFromHeader: () =>
    smtpReply(550, '5.6.0', 'Message rejected: it has no From header with an address (RFC 5322 section 3.6.2)'),
  badSender: (address: string) => smtpReply(501, '5.1.7', `<${address}>: Bad sender address syntax`),
  suppressed: (rcpt: string) =>
    smtpReply(
      550,
      '5.7.1',
      `<${rcpt}>: Recipient address is on your suppression list after a hard bounce; remove it in the dashboard to send to it again`,
    ),
  tooManyRecipients: (limit: number) =>
    smtpReply(452, '4.5.3', `Too many recipients: at most ${limit} per message; send the others in another message`),
  mailboxRateLimited: (limit: number) =>
    smtpReply(451, '4.7.1', `Sending limit reached: this mailbox may send ${limit} messages per hour; try again later`),
  tenantRateLimited: (limit: number) =>
    smtpReply(
      451,
      '4.7.1',
      `Sending limit reached: your organisation may send ${limit} messages per hour; try again later`,
    ),
  sentFolderFull: () =>
    smtpReply(452, '4.2.2', 'Your mailbox is full, so no copy can be kept in Sent; free some space and send again'),
} as const;
