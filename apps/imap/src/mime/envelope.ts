import type { WireValue } from '@mailroom/imap/imap/imap-arg';
import { parseAddressList } from './address-list';
import type { MimeEnvelopeFields, MimeNode } from './mime-node';

function addresses(value: string | null): WireValue {
  if (value === null) return null;
  const list = parseAddressList(value);
  return list.length === 0 ? null : list.map((a) => [a.name, a.adl, a.mailbox, a.host]);
}

/**
 * The ENVELOPE of a message node (RFC 3501 7.4.2, RFC 9051 7.5.2): header values unfolded, not
 * decoded (encoded words pass through); Sender and Reply-To default to From.
 */
export function envelope(node: MimeNode): WireValue {
  const e: MimeEnvelopeFields = node.envelope ?? {
    date: null,
    subject: null,
    from: null,
    sender: null,
    replyTo: null,
    to: null,
    cc: null,
    bcc: null,
    inReplyTo: null,
    messageId: null,
  };
  const from = addresses(e.from);
  const orFrom = (value: string | null) => {
    const parsed = addresses(value);
    return parsed === null ? from : parsed;
  };
  return [
    e.date,
    e.subject,
    from,
    orFrom(e.sender),
    orFrom(e.replyTo),
    addresses(e.to),
    addresses(e.cc),
    addresses(e.bcc),
    e.inReplyTo,
    e.messageId,
  ];
}
