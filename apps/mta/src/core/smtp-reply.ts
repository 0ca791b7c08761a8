import { FolderNotFound, MailboxUnavailable, QuotaExceeded } from '@mailroom/mailstore';

/** An SMTP reply for smtp-server: `responseCode` plus text that starts with an RFC 3463 code. */
export interface SmtpReply extends Error {
  responseCode: number;
}

/** Text that already carries an enhanced status code; the session guard sends it as is. */
export const ENHANCED_CODE = /^[245]\.\d{1,3}\.\d{1,3}\s/;

export function smtpReply(code: number, enhanced: string, text: string): SmtpReply {
  return Object.assign(new Error(`${enhanced} ${text}`), { responseCode: code, name: 'SmtpReply' });
}

export function isSmtpReply(err: unknown): err is SmtpReply {
  return err instanceof Error && typeof (err as Partial<SmtpReply>).responseCode === 'number';
}

/**
 * The one error mapper of the MTA edge: our own replies pass through, anything else (the
 * database gone, a bug) is a temporary local error, so the sender keeps the message and retries.
 */
export function toSmtpReply(err: unknown): SmtpReply {
  if (isSmtpReply(err)) return err;
  // The mail store's refusals at commit: the RCPT checks passed, so the state changed since;
  // temporary, so the sender retries and the next RCPT gets the lasting answer.
  if (err instanceof QuotaExceeded) return replies.quotaRace();
  if (err instanceof MailboxUnavailable) return replies.mailboxChanged();
  if (err instanceof FolderNotFound) return replies.storeFailed();
  return smtpReply(451, '4.3.0', 'Temporary local problem, please try again later');
}

export const replies = {
  badRecipient: (rcpt: string) => smtpReply(501, '5.1.3', `<${rcpt}>: Bad recipient address syntax`),
  unknownUser: (rcpt: string) => smtpReply(550, '5.1.1', `<${rcpt}>: Recipient address rejected: User unknown`),
  disabled: (rcpt: string) => smtpReply(550, '5.2.1', `<${rcpt}>: Recipient address rejected: Mailbox disabled`),
  overQuota: (rcpt: string) => smtpReply(452, '4.2.2', `<${rcpt}>: Recipient address rejected: Mailbox full`),
  tooBigForQuota: (rcpt: string) =>
    smtpReply(552, '5.2.2', `<${rcpt}>: Recipient address rejected: Message is larger than the mailbox quota`),
  tenantSuspended: (rcpt: string) =>
    smtpReply(451, '4.7.1', `<${rcpt}>: Recipient address temporarily rejected: Service suspended for this domain`),
  relayDenied: (rcpt: string) => smtpReply(554, '5.7.1', `<${rcpt}>: Relay access denied`),
  greylisted: (rcpt: string) =>
    smtpReply(451, '4.7.1', `<${rcpt}>: Recipient address rejected: Greylisted, please try again later`),
  spam: () => smtpReply(550, '5.7.1', 'Message rejected as spam'),
  loop: (hops: number) => smtpReply(554, '5.4.6', `Too many hops (${hops} Received headers): message is looping`),
  bareLineEnding: () =>
    smtpReply(
      554,
      '5.6.0',
      'Message rejected: bare <LF> or <CR> in message data is not allowed (RFC 5321 section 2.3.8)',
    ),
  headerTooLong: () => smtpReply(552, '5.3.4', 'Message header is too large'),
  storeFailed: () => smtpReply(451, '4.3.0', 'Temporary local problem, message not stored, please try again later'),
  quotaRace: () => smtpReply(452, '4.2.2', 'Mailbox full, please try again later'),
  mailboxChanged: () => smtpReply(450, '4.2.1', 'Mailbox unavailable, please try again later'),
} as const;
