export interface TraceInput {
  hostname: string;
  queueId: string;
  helo: string | null;
  clientHostname: string | null;
  remoteIp: string;
  /** smtp-server's transmission type: SMTP, ESMTP, ESMTPS (RFC 3848). */
  protocol: string;
  tls: { name: string; version?: string } | null;
  /** Named only when the message has a single recipient (RFC 5321 §7.2: do not disclose Bcc). */
  recipient: string | null;
  sender: string;
  now: Date;
}

// Values we did not choose (HELO argument, addresses) are written into header fields: keep them
// to one line of printable characters, so a client cannot inject a field of its own.
function clean(value: string): string {
  return value.replace(/[^\x21-\x7e\u0080-\uffff]/g, '').slice(0, 255);
}

/** RFC 5322 §3.3 date-time, as Received needs it. */
export function rfc5322Date(date: Date): string {
  return date.toUTCString().replace('GMT', '+0000');
}

/** The Received field (RFC 5321 §4.4) for this hop. */
export function receivedHeader(t: TraceInput): string {
  const ip = t.remoteIp.includes(':') ? `IPv6:${t.remoteIp}` : t.remoteIp;
  // smtp-server reports an unresolved client as its [address] literal: name it once.
  const name = t.clientHostname && !t.clientHostname.startsWith('[') ? `${clean(t.clientHostname)} ` : '';
  const from = `${clean(t.helo ?? 'unknown')} (${name}[${ip}])`;
  const tls = t.tls ? `\r\n\t(using ${clean(t.tls.version ?? 'TLS')} with cipher ${clean(t.tls.name)})` : '';
  const forPart = t.recipient ? `\r\n\tfor <${clean(t.recipient)}>` : '';
  return (
    `Received: from ${from}\r\n\tby ${t.hostname} (Mailroom) with ${clean(t.protocol)} id ${t.queueId}` +
    `${tls}${forPart};\r\n\t${rfc5322Date(t.now)}\r\n`
  );
}

/** Return-Path (RFC 5321 §4.4): the envelope sender as the final delivery saw it. */
export function returnPathHeader(sender: string): string {
  return `Return-Path: <${clean(sender)}>\r\n`;
}

/** Counts Received fields in a header block: the hop count of RFC 5321 §6.3 loop detection. */
export function countReceived(headerText: string): number {
  return (headerText.match(/^received:/gim) ?? []).length;
}
