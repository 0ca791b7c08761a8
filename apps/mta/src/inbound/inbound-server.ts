import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import {
  SMTPServer,
  type SMTPServerAddress,
  type SMTPServerDataStream,
  type SMTPServerOptions,
  type SMTPServerSession,
} from 'smtp-server';
import type { DnsblChecker } from './dns-lookups';
import type { Greylist } from './greylist';
import type { InboundPipeline } from './inbound-pipeline';
import type { Spool } from './message-spool';
import type { Recipient, RecipientResolver } from './recipient-resolver';
import type { SessionLimits } from './session-limits';
import { bridge, replies } from './smtp-reply';

export interface InboundServices {
  limits: SessionLimits;
  resolver: RecipientResolver;
  pipeline: InboundPipeline;
  spool: Spool;
  dnsbl: DnsblChecker;
  greylist: Greylist | null;
  logger: Logger;
}

export interface InboundLimits {
  maxMessageBytes: number;
  maxHeaderBytes: number;
}

/** smtp-server with our per-connection guards attached as each connection is created. */
class GuardedSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    private readonly limits: SessionLimits,
  ) {
    super(options);
  }

  override connect(...args: Parameters<SMTPServer['connect']>): void {
    super.connect(...args);
    let newest: Parameters<SessionLimits['attach']>[0] | undefined;
    for (const connection of this.connections) newest = connection;
    if (newest && (newest._socket as Socket) === args[0]) this.limits.attach(newest);
  }
}

/**
 * The inbound MX: small async hooks calling injected services. Per-session state lives in weak
 * maps keyed by the session and by the envelope smtp-server replaces on RSET, EHLO and after
 * each message, so accepted recipients can never leak into the next transaction.
 */
export class InboundHooks {
  private readonly recipients = new WeakMap<object, Recipient[]>();
  private readonly dnsblHits = new WeakMap<SMTPServerSession, string[]>();

  constructor(
    private readonly services: InboundServices,
    private readonly limits: InboundLimits,
  ) {}

  async onConnect(session: SMTPServerSession): Promise<void> {
    const refused = this.services.limits.admit(session);
    if (refused) throw refused;
    if (this.services.dnsbl.enabled) {
      this.dnsblHits.set(session, await this.services.dnsbl.listings(session.remoteAddress));
    }
  }

  onClose(session: SMTPServerSession): void {
    this.services.limits.release(session);
  }

  async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const from = session.envelope.mailFrom;
    const declared = from && from.args && typeof from.args.SIZE === 'string' ? Number(from.args.SIZE) : null;
    const recipient = await this.services.resolver.resolve(address.address, declared);
    const sender = from ? from.address : '';
    if (recipient.kind === 'local' && this.services.greylist) {
      const passes = await this.services.greylist.passes(session.remoteAddress, sender, recipient.address);
      if (!passes) throw replies.greylisted(address.address);
    }
    const list = this.recipients.get(session.envelope) ?? [];
    if (!list.some((r) => r.address === recipient.address)) list.push(recipient);
    this.recipients.set(session.envelope, list);
  }

  async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    const message = await this.services.spool.receive(stream, this.limits.maxMessageBytes, this.limits.maxHeaderBytes);
    try {
      const from = session.envelope.mailFrom;
      const tls = session.tlsOptions ? { name: session.tlsOptions.name, version: session.tlsOptions.version } : null;
      return await this.services.pipeline.deliver(
        message,
        {
          sender: from ? from.address : '',
          remoteIp: session.remoteAddress,
          helo: session.hostNameAppearsAs || null,
          clientHostname: session.clientHostname || null,
          protocol: session.transmissionType,
          tls,
          dnsbl: this.dnsblHits.get(session) ?? [],
        },
        this.recipients.get(session.envelope) ?? [],
      );
    } catch (err) {
      if (!(err instanceof Error && 'responseCode' in err)) {
        this.services.logger.error({ err, sessionId: session.id }, 'inbound message not stored');
      }
      throw err;
    } finally {
      await this.services.spool.remove(message.path);
    }
  }

  /** smtp-server options wired to these hooks. */
  options(): Pick<SMTPServerOptions, 'onConnect' | 'onClose' | 'onMailFrom' | 'onRcptTo' | 'onData'> {
    return {
      onConnect: (session, done) => bridge(() => this.onConnect(session), done),
      onClose: (session) => this.onClose(session),
      onMailFrom: (_address, _session, done) => done(),
      onRcptTo: (address, session, done) => bridge(() => this.onRcptTo(address, session), done),
      onData: (stream, session, done) =>
        bridge(async () => {
          try {
            return await this.onData(stream, session);
          } finally {
            stream.resume();
          }
        }, done),
    };
  }
}

export function createGuardedServer(options: SMTPServerOptions, limits: SessionLimits): SMTPServer {
  return new GuardedSmtpServer(options, limits);
}
