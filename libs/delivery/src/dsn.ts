import MailComposer from 'nodemailer/lib/mail-composer';

export interface FailedRecipient {
  recipient: string;
  status: string;
  remoteMta?: string | null;
  diagnostic: string;
}

export interface DsnInput {
  reportingMta: string;
  /** The mailbox the report goes to (the original sender). */
  to: string;
  /** postmaster@ of the bounce domain. */
  from: string;
  originalHeaders: string;
  originalMessageId?: string | null;
  originalSubject?: string | null;
  arrivalDate: Date;
  failed: FailedRecipient[];
}

/**
 * A delivery status notification (RFC 3464): multipart/report with a human explanation, the
 * machine-readable message/delivery-status, and the original headers (text/rfc822-headers).
 * Sent with a null envelope sender, so it can never bounce back (RFC 3461 §6.2).
 */
export async function buildDsn(input: DsnInput): Promise<Buffer> {
  const human = [
    'This is the mail system at ' + input.reportingMta + '.',
    '',
    'Your message could not be delivered to ' +
      (input.failed.length === 1 ? 'this recipient' : 'these recipients') +
      ':',
    '',
    ...input.failed.map((f) => `  <${f.recipient}>: ${f.diagnostic}`),
    '',
    'The original headers are attached.',
  ].join('\r\n');
  const perMessage = [
    `Reporting-MTA: dns; ${input.reportingMta}`,
    `Arrival-Date: ${input.arrivalDate.toUTCString()}`,
  ].join('\r\n');
  const perRecipient = input.failed
    .map((f) =>
      [
        `Final-Recipient: rfc822; ${f.recipient}`,
        'Action: failed',
        `Status: ${f.status}`,
        ...(f.remoteMta ? [`Remote-MTA: dns; ${f.remoteMta}`] : []),
        `Diagnostic-Code: smtp; ${f.diagnostic.replace(/\r?\n/g, ' ')}`,
      ].join('\r\n'),
    )
    .join('\r\n\r\n');
  const composer = new MailComposer({
    from: `Mail Delivery System <${input.from}>`,
    to: input.to,
    subject: `Undelivered Mail Returned to Sender${input.originalSubject ? `: ${input.originalSubject}` : ''}`,
    headers: { 'Auto-Submitted': 'auto-replied' },
    ...(input.originalMessageId ? { inReplyTo: input.originalMessageId, references: input.originalMessageId } : {}),
    text: human,
    attachments: [
      {
        contentType: 'message/delivery-status',
        content: `${perMessage}\r\n\r\n${perRecipient}\r\n`,
        contentDisposition: 'inline',
      },
      { contentType: 'text/rfc822-headers', content: input.originalHeaders, contentDisposition: 'inline' },
    ],
  });
  const node = composer.compile();
  // multipart/report; report-type=delivery-status (RFC 6522) instead of multipart/mixed.
  node.setHeader('Content-Type', 'multipart/report; report-type=delivery-status');
  return new Promise((resolve, reject) => node.build((err, message) => (err ? reject(err) : resolve(message))));
}
