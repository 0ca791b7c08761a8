import type { Logger } from 'pino';
import type { SMTPServerDataStream, SMTPServerSession } from 'smtp-server';
import { receivedHeader, type MailDsn } from '@mailroom/smtp';
import { envelopeDsn } from './dsn-params';
import type { Spool, SpooledMessage } from './message-spool';
import { isSmtpReply } from './smtp-reply';

/** What both edges know about the client when DATA ends (for Received and the stored row). */
export interface ClientInfo {
  sender: string;
  remoteIp: string;
  helo: string | null;
  clientHostname: string | null;
  protocol: string;
  tls: { name: string; version?: string } | null;
  /** RET and ENVID of MAIL FROM (RFC 3461). */
  dsn: MailDsn;
}

export function clientInfo(session: SMTPServerSession): ClientInfo {
  const from = session.envelope.mailFrom;
  return {
    sender: from ? from.address : '',
    remoteIp: session.remoteAddress,
    helo: session.hostNameAppearsAs || null,
    clientHostname: session.clientHostname || null,
    protocol: session.transmissionType,
    tls: session.tlsOptions ? { name: session.tlsOptions.name, version: session.tlsOptions.version } : null,
    dsn: envelopeDsn(session),
  };
}

/** Our Received field for this hop (RFC 5321 §4.4); `recipients` named only when there is one. */
export function receivedFor(
  client: ClientInfo,
  hostname: string,
  queueId: string,
  recipients: readonly string[],
  now = new Date(),
): string {
  return receivedHeader({
    hostname,
    queueId,
    helo: client.helo,
    clientHostname: client.clientHostname,
    remoteIp: client.remoteIp,
    protocol: client.protocol,
    tls: client.tls,
    recipient: recipients.length === 1 ? recipients[0]! : null,
    sender: client.sender,
    now,
  });
}

/** The SIZE the client declared on MAIL FROM (RFC 1870), for the early quota check. */
export function declaredSize(session: SMTPServerSession): number | null {
  const from = session.envelope.mailFrom;
  return from && from.args && typeof from.args.SIZE === 'string' ? Number(from.args.SIZE) : null;
}

export interface DataLimits {
  maxMessageBytes: number;
  maxHeaderBytes: number;
}

/**
 * DATA on both edges: the message streams to a spool file, `handle` decides the reply, and the
 * file is removed whatever happened. A failure that is not one of our replies is logged once
 * here (it becomes 451 at the bridge).
 */
export class DataReceiver {
  constructor(
    private readonly spool: Spool,
    private readonly limits: DataLimits,
    private readonly logger: Logger,
    private readonly what: string,
  ) {}

  async receive(
    stream: SMTPServerDataStream,
    session: SMTPServerSession,
    handle: (message: SpooledMessage) => Promise<string>,
  ): Promise<string> {
    const message = await this.spool.receive(stream, this.limits.maxMessageBytes, this.limits.maxHeaderBytes);
    try {
      return await handle(message);
    } catch (err) {
      if (!isSmtpReply(err)) this.logger.error({ err, sessionId: session.id }, `${this.what} not stored`);
      throw err;
    } finally {
      await this.spool.remove(message.path);
    }
  }
}
