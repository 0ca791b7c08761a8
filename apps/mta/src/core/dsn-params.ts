import type { SMTPServerAddress, SMTPServerSession } from 'smtp-server';
import { parseMailDsn, parseRcptDsn, type MailDsn, type RcptDsn } from '@mailroom/smtp';
import { smtpReply } from './smtp-reply';

/** RET and ENVID of a MAIL FROM (RFC 3461 §4.3, §4.4); 501 5.5.4 when they are malformed. */
export function mailDsn(address: SMTPServerAddress): MailDsn {
  const parsed = parseMailDsn(address.args);
  if (!parsed.ok) throw smtpReply(501, '5.5.4', parsed.error);
  return parsed.value;
}

/** NOTIFY and ORCPT of a RCPT TO (RFC 3461 §4.1, §4.2); 501 5.5.4 when they are malformed. */
export function rcptDsn(address: SMTPServerAddress): RcptDsn {
  const parsed = parseRcptDsn(address.args);
  if (!parsed.ok) throw smtpReply(501, '5.5.4', parsed.error);
  return parsed.value;
}

/** The accepted MAIL FROM's RET and ENVID (checked when MAIL was answered). */
export function envelopeDsn(session: SMTPServerSession): MailDsn {
  const from = session.envelope.mailFrom;
  const parsed = from ? parseMailDsn(from.args) : null;
  return parsed?.ok ? parsed.value : { ret: null, envid: null };
}
