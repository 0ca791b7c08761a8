import type { SMTPServerAddress, SMTPServerDataStream, SMTPServerOptions, SMTPServerSession } from 'smtp-server';
import { clientInfo, declaredSize, type DataReceiver } from '../core/data-receiver';
import { mailDsn, rcptDsn } from '../core/dsn-params';
import { bridge, bridgeData } from '../core/hook-bridge';
import type { Recipient, RecipientResolver } from '../core/recipient-resolver';
import type { SessionLimits } from '../core/session-limits';
import type { WorkLimit } from '../core/work-limit';
import { replies } from '../core/smtp-reply';
import type { DnsblChecker } from './dns-lookups';
import type { Greylist } from './greylist';
import type { InboundPipeline } from './inbound-pipeline';

export interface InboundServices {
  limits: SessionLimits;
  resolver: RecipientResolver;
  pipeline: InboundPipeline;
  data: DataReceiver;
  dnsbl: DnsblChecker;
  greylist: Greylist | null;
  /** Bounds the messages between end of DATA and reply at once (see WorkLimit). */
  work: WorkLimit;
}

/**
 * The inbound MX: small async hooks calling injected services. Per-session state lives in weak
 * maps keyed by the session and by the envelope smtp-server replaces on RSET, EHLO and after
 * each message, so accepted recipients can never leak into the next transaction.
 */
export class InboundHooks {
  private readonly recipients = new WeakMap<object, Recipient[]>();
  private readonly dnsblHits = new WeakMap<SMTPServerSession, string[]>();

  constructor(private readonly services: InboundServices) {}

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

  /** Only the DSN parameters are checked: any sender may write to a hosted address. */
  async onMailFrom(address: SMTPServerAddress): Promise<void> {
    mailDsn(address);
  }

  async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const dsn = rcptDsn(address);
    const resolved = await this.services.resolver.resolve(address.address, declaredSize(session));
    const recipient = resolved.kind === 'bounce' ? resolved : { ...resolved, dsn };
    const from = session.envelope.mailFrom;
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
    return this.services.data.receive(stream, session, (message) =>
      this.services.work.run(() =>
        this.services.pipeline.deliver(
          message,
          { ...clientInfo(session), dnsbl: this.dnsblHits.get(session) ?? [] },
          this.recipients.get(session.envelope) ?? [],
        ),
      ),
    );
  }

  /** smtp-server options wired to these hooks. */
  options(): Pick<SMTPServerOptions, 'onConnect' | 'onClose' | 'onMailFrom' | 'onRcptTo' | 'onData'> {
    return {
      onConnect: (session, done) => bridge(() => this.onConnect(session), done),
      onClose: (session) => this.onClose(session),
      onMailFrom: (address, _session, done) => bridge(() => this.onMailFrom(address), done),
      onRcptTo: (address, session, done) => bridge(() => this.onRcptTo(address, session), done),
      onData: (stream, session, done) => bridgeData(stream, () => this.onData(stream, session), done),
    };
  }
}
