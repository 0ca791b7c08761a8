import type { MailStore } from '@mailroom/mailstore';
import type { SpooledMessage } from '@mailroom/mta/core/message-spool';

/** A raw message with the given headers (CRLF lines) and body. */
export function rawMessage(headers: Record<string, string>, body = 'hello'): Buffer {
  const lines = Object.entries(headers).map(([k, v]) => `${k}: ${v}`);
  return Buffer.from(`${lines.join('\r\n')}\r\n\r\n${body}\r\n`);
}

/** APPENDs `raw` to a folder as the IMAP server will, with the summary the MTA would extract. */
export function appendTo(
  store: MailStore,
  at: { tenantId: string; mailboxId: string; folderId: string },
  raw: Buffer,
  options: { flags?: string[]; receivedAt?: Date; subject?: string; from?: string; sentAt?: Date } = {},
) {
  return store.append({
    ...at,
    raw,
    flags: options.flags ?? [],
    receivedAt: options.receivedAt ?? null,
    header: {
      messageId: null,
      subject: options.subject ?? null,
      fromAddress: options.from ?? null,
      fromName: null,
      toAddresses: [],
      sentAt: options.sentAt ?? null,
      sortKeys: null,
    },
  });
}

/** A small message as the MTA's spool holds it after DATA (in memory, CRLF, the header complete). */
export function heldMessage(bytes: Buffer): SpooledMessage {
  return {
    path: null,
    bytes,
    size: bytes.length,
    header: bytes.subarray(0, bytes.indexOf('\r\n\r\n') + 4),
    headerComplete: true,
    bareLineEnding: false,
    sizeExceeded: false,
  };
}
