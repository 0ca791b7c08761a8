/** What a delivery status notification (RFC 3464) says about the one recipient it reports on. */
export interface DsnReport {
  action: string | null;
  /** Enhanced status code, e.g. 5.1.1. */
  status: string;
  /** Status class: 2 success, 4 persistent transient failure, 5 permanent failure. */
  statusClass: 2 | 4 | 5;
  finalRecipient: string | null;
  diagnostic: string | null;
  /** The SMTP reply code in a `Diagnostic-Code: smtp; 550 ...`, when there is one. */
  smtpCode: number | null;
}

function field(block: string, name: string): string | null {
  const match = new RegExp(`^${name}:[ \\t]*(.*(?:\\r?\\n[ \\t].*)*)`, 'im').exec(block);
  return match?.[1] ? match[1].replace(/\r?\n[ \t]+/g, ' ').trim() : null;
}

/**
 * Reads the per-recipient fields of the message/delivery-status part of a multipart/report
 * (RFC 3464 §2.3) from the start of a DSN. Returns null for anything that is not a DSN (an
 * auto-reply or spam sent to a bounce address), which is then dropped, never stored.
 */
export function parseDsnReport(text: string): DsnReport | null {
  const part = /content-type:\s*message\/(?:global-)?delivery-status[^\r\n]*(?:\r?\n[ \t][^\r\n]*)*\r?\n\r?\n/i.exec(
    text,
  );
  if (!part) return null;
  const body = text.slice(part.index + part[0].length);
  // Per-message fields come first, then one block per recipient; take the first recipient block.
  const blocks = body.split(/\r?\n\r?\n/);
  const block = blocks.find((b) => /^status:/im.test(b));
  if (!block) return null;
  const statusMatch = /^([245])\.\d{1,3}\.\d{1,3}/.exec(field(block, 'status') ?? '');
  if (!statusMatch) return null;
  const diagnostic = field(block, 'diagnostic-code');
  const smtp = diagnostic ? /^smtp;\s*([245]\d\d)\b/i.exec(diagnostic) : null;
  const recipient = field(block, 'final-recipient');
  return {
    action: field(block, 'action')?.toLowerCase() ?? null,
    status: statusMatch[0],
    statusClass: Number(statusMatch[1]) as 2 | 4 | 5,
    finalRecipient: recipient ? recipient.replace(/^[^;]*;\s*/, '') : null,
    diagnostic,
    smtpCode: smtp ? Number(smtp[1]) : null,
  };
}
