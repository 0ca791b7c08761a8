import MailComposer from 'nodemailer/lib/mail-composer';

/** RFC 3464 §2.3.3: what happened to a recipient. */
export type DsnAction = 'failed' | 'delayed' | 'delivered' | 'relayed';

export interface DsnRecipient {
  recipient: string;
  action: DsnAction;
  /** Enhanced status code (RFC 3463), e.g. 5.1.1, 4.4.1, 2.0.0. */
  status: string;
  remoteMta?: string | null;
  diagnostic?: string | null;
  /** RFC 3461 ORCPT as given, `addr-type;address` (Original-Recipient). */
  originalRecipient?: string | null;
  /** For 'delayed': when we stop trying (Will-Retry-Until). */
  willRetryUntil?: Date | null;
}

export interface DsnInput {
  reportingMta: string;
  /** The mailbox the report goes to (the original sender). */
  to: string;
  /** postmaster@ of the bounce domain. */
  from: string;
  /** The original message as sent (or at least its header). */
  original: Buffer;
  /** RFC 3461 RET: HDRS (or not given) returns the header only, FULL the whole message. */
  ret?: 'FULL' | 'HDRS' | null;
  /** RFC 3461 ENVID, decoded (Original-Envelope-Id). */
  envelopeId?: string | null;
  originalMessageId?: string | null;
  originalSubject?: string | null;
  arrivalDate: Date;
  /** One action for all: a report is about failures, delays or successes. */
  recipients: DsnRecipient[];
}

const SUBJECTS: Record<DsnAction, string> = {
  failed: 'Undelivered Mail Returned to Sender',
  delayed: 'Delayed Mail (still being retried)',
  delivered: 'Successful Mail Delivery Report',
  relayed: 'Successful Mail Delivery Report',
};

const EXPLAINED: Record<DsnAction, (n: number) => string> = {
  failed: (n) => `Your message could not be delivered to ${n === 1 ? 'this recipient' : 'these recipients'}:`,
  delayed: (n) =>
    `Your message could not be delivered yet to ${n === 1 ? 'this recipient' : 'these recipients'}; ` +
    'we keep trying and will tell you if we give up:',
  delivered: (n) => `Your message was delivered to ${n === 1 ? 'this recipient' : 'these recipients'}:`,
  relayed: (n) =>
    `Your message was handed on to ${n === 1 ? 'this recipient' : 'these recipients'}' mail server, ` +
    'which does not report delivery:',
};

/** The subject of a report about `action`, with the original subject. */
export function dsnSubject(action: DsnAction, originalSubject?: string | null): string {
  return `${SUBJECTS[action]}${originalSubject ? `: ${originalSubject}` : ''}`;
}

/** The header of a message: everything up to and including the line ending before the blank line. */
export function headerOf(raw: Buffer): Buffer {
  const end = raw.indexOf('\r\n\r\n');
  return raw.subarray(0, end < 0 ? raw.length : end + 2);
}

const oneLine = (s: string) => s.replace(/\r?\n/g, ' ');

function perRecipientFields(r: DsnRecipient): string {
  return [
    ...(r.originalRecipient ? [`Original-Recipient: ${oneLine(r.originalRecipient)}`] : []),
    `Final-Recipient: rfc822; ${r.recipient}`,
    `Action: ${r.action}`,
    `Status: ${r.status}`,
    ...(r.remoteMta ? [`Remote-MTA: dns; ${r.remoteMta}`] : []),
    ...(r.diagnostic ? [`Diagnostic-Code: smtp; ${oneLine(r.diagnostic)}`] : []),
    ...(r.willRetryUntil ? [`Will-Retry-Until: ${r.willRetryUntil.toUTCString()}`] : []),
  ].join('\r\n');
}

/**
 * A delivery status notification (RFC 3464): multipart/report with a human explanation, the
 * machine-readable message/delivery-status, and the original message: its header
 * (text/rfc822-headers) unless RET=FULL asked for all of it (message/rfc822, RFC 3461 §4.3).
 * Sent with a null envelope sender, so it can never bounce back (RFC 3461 §6.2).
 */
export async function buildDsn(input: DsnInput): Promise<Buffer> {
  const action = input.recipients[0]?.action ?? 'failed';
  const human = [
    'This is the mail system at ' + input.reportingMta + '.',
    '',
    EXPLAINED[action](input.recipients.length),
    '',
    ...input.recipients.map((r) => `  <${r.recipient}>${r.diagnostic ? `: ${oneLine(r.diagnostic)}` : ''}`),
    '',
    input.ret === 'FULL' ? 'The original message is attached.' : 'The original headers are attached.',
  ].join('\r\n');
  const perMessage = [
    ...(input.envelopeId ? [`Original-Envelope-Id: ${oneLine(input.envelopeId)}`] : []),
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `Arrival-Date: ${input.arrivalDate.toUTCString()}`,
  ].join('\r\n');
  const perRecipient = input.recipients.map(perRecipientFields).join('\r\n\r\n');
  const returned =
    input.ret === 'FULL'
      ? { contentType: 'message/rfc822', content: input.original, contentDisposition: 'inline' as const }
      : {
          contentType: 'text/rfc822-headers',
          content: headerOf(input.original).toString('utf8'),
          contentDisposition: 'inline' as const,
          // Readable as text (nodemailer would base64 it under an invented file name).
          contentTransferEncoding: 'quoted-printable' as const,
          filename: false as const,
        };
  const composer = new MailComposer({
    from: `Mail Delivery System <${input.from}>`,
    to: input.to,
    subject: dsnSubject(action, input.originalSubject),
    headers: { 'Auto-Submitted': 'auto-replied' },
    ...(input.originalMessageId ? { inReplyTo: input.originalMessageId, references: input.originalMessageId } : {}),
    text: human,
    attachments: [
      {
        contentType: 'message/delivery-status',
        content: `${perMessage}\r\n\r\n${perRecipient}\r\n`,
        contentDisposition: 'inline',
      },
      returned,
    ],
  });
  const node = composer.compile();
  // multipart/report; report-type=delivery-status (RFC 6522) instead of multipart/mixed.
  node.setHeader('Content-Type', 'multipart/report; report-type=delivery-status');
  return new Promise((resolve, reject) => node.build((err, message) => (err ? reject(err) : resolve(message))));
}
