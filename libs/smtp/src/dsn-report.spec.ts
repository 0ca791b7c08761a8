import { describe, expect, it } from 'vitest';
import { parseDsnReport } from './dsn-report';

const dsn = (fields: string) =>
  [
    'From: MAILER-DAEMON@remote.example',
    'Content-Type: multipart/report; report-type=delivery-status; boundary="b"',
    '',
    '--b',
    'Content-Type: text/plain',
    '',
    'Your message could not be delivered.',
    '--b',
    'Content-Type: message/delivery-status',
    '',
    'Reporting-MTA: dns; remote.example',
    '',
    fields,
    '',
    '--b--',
    '',
  ].join('\r\n');

describe('parseDsnReport', () => {
  it('reads a permanent failure with its SMTP reply', () => {
    const sut = parseDsnReport(
      dsn(
        'Final-Recipient: rfc822; bob@remote.example\r\nAction: failed\r\nStatus: 5.1.1\r\nDiagnostic-Code: smtp; 550 5.1.1\r\n <bob@remote.example>: User unknown',
      ),
    );
    expect(sut).toEqual({
      action: 'failed',
      status: '5.1.1',
      statusClass: 5,
      finalRecipient: 'bob@remote.example',
      diagnostic: 'smtp; 550 5.1.1 <bob@remote.example>: User unknown',
      smtpCode: 550,
    });
  });

  it('reads a delay', () => {
    expect(
      parseDsnReport(dsn('Final-Recipient: rfc822; a@b.example\r\nAction: delayed\r\nStatus: 4.4.1')),
    ).toMatchObject({
      statusClass: 4,
      action: 'delayed',
      smtpCode: null,
    });
  });

  it.each([
    ['a plain auto-reply', 'Subject: Out of office\r\n\r\nI am away.'],
    ['a report without a status', dsn('Final-Recipient: rfc822; a@b.example\r\nAction: failed')],
  ])('ignores %s', (_name, text) => {
    expect(parseDsnReport(text)).toBeNull();
  });
});
