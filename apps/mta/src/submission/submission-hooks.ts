import type {
  SMTPServerAddress,
  SMTPServerAuthentication,
  SMTPServerDataStream,
  SMTPServerOptions,
  SMTPServerSession,
} from 'smtp-server';
import { parseMailAddress } from '@mailroom/mail';
import type { RcptDsn } from '@mailroom/smtp';
import { clientInfo, declaredSize, type DataReceiver } from '../core/data-receiver';
import { mailDsn, rcptDsn } from '../core/dsn-params';
import { bridge, bridgeAuth, bridgeData } from '../core/hook-bridge';
import type { RecipientResolver } from '../core/recipient-resolver';
import type { SessionLimits } from '../core/session-limits';
import { replies, type SmtpReply } from '../core/smtp-reply';
import type { MailboxAuthenticator, SubmissionUser } from './mailbox-authenticator';
import type { SendRate } from './send-rate';
import type { SenderPolicy } from './sender-policy';
import type { SubmissionRecipient, SubmissionPipeline } from './submission-pipeline';
import type { SubmissionRepository } from './submission.repository';
import { submissionReplies } from './submission-replies';

export interface SubmissionServices {
  limits: SessionLimits;
  auth: MailboxAuthenticator;
  senders: SenderPolicy;
  rate: SendRate;
  repo: SubmissionRepository;
  resolver: RecipientResolver;
  pipeline: SubmissionPipeline;
  data: DataReceiver;
}

export interface SubmissionSizes {
  maxRecipientsPerMessage: number;
}

/**
 * The submission ports (587 after STARTTLS, 465): AUTH, then MAIL FROM owned by the login,
 * recipients anywhere but suppressed ones, and the pipeline at the end of DATA. The user lives
 * in a weak map keyed by the session; recipients in one keyed by the envelope smtp-server
 * replaces on RSET and after each message.
 */
export class SubmissionHooks {
  private readonly users = new WeakMap<SMTPServerSession, SubmissionUser>();
  private readonly recipients = new WeakMap<object, SubmissionRecipient[]>();

  constructor(
    private readonly services: SubmissionServices,
    private readonly sizes: SubmissionSizes,
  ) {}

  onConnect(session: SMTPServerSession): Promise<void> {
    const refused = this.services.limits.admit(session);
    return refused ? Promise.reject(refused) : Promise.resolve();
  }

  async onAuth(auth: SMTPServerAuthentication, session: SMTPServerSession): Promise<{ user: string }> {
    const user = await this.services.auth.authenticate({
      username: auth.authcid || auth.username || '',
      authzid: auth.method === 'PLAIN' ? (auth.authzid ?? '') : '',
      password: auth.password ?? '',
      ip: session.remoteAddress,
    });
    this.users.set(session, user);
    return { user: user.login };
  }

  async onMailFrom(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const user = this.user(session);
    if (address.address === '') throw submissionReplies.nullSender(user.login);
    if (!parseMailAddress(address.address, { smtputf8: true }).ok) throw submissionReplies.badSender(address.address);
    mailDsn(address);
    if (!(await this.services.senders.owns(user, address.address))) {
      throw submissionReplies.senderNotOwned(address.address, user.login);
    }
    const limited = await this.services.rate.check(user.tenantId, user.mailboxId);
    if (limited) throw limited;
  }

  async onRcptTo(address: SMTPServerAddress, session: SMTPServerSession): Promise<void> {
    const user = this.user(session);
    const parsed = parseMailAddress(address.address, { smtputf8: true });
    if (!parsed.ok) throw replies.badRecipient(address.address);
    const dsn = rcptDsn(address);
    const list = this.recipients.get(session.envelope) ?? [];
    const key = parsed.value.address.toLowerCase();
    if (list.some((r) => r.address.toLowerCase() === key)) return;
    if (list.length >= this.sizes.maxRecipientsPerMessage) {
      throw submissionReplies.tooManyRecipients(this.sizes.maxRecipientsPerMessage);
    }
    if (await this.services.repo.isSuppressed(user.tenantId, parsed.value.address)) {
      throw submissionReplies.suppressed(address.address);
    }
    list.push(await this.classify(parsed.value.address, parsed.value.domain, dsn, session));
    this.recipients.set(session.envelope, list);
  }

  /** Hosted recipients are resolved as the MX resolves them (unknown users refused now). */
  private async classify(
    address: string,
    domain: string,
    dsn: RcptDsn,
    session: SMTPServerSession,
  ): Promise<SubmissionRecipient> {
    if (!(await this.services.resolver.hosts(domain))) return { kind: 'external', address, dsn };
    const recipient = await this.services.resolver.resolve(address, declaredSize(session));
    return recipient.kind === 'local' ? { ...recipient, dsn } : { kind: 'external', address, dsn };
  }

  async onData(stream: SMTPServerDataStream, session: SMTPServerSession): Promise<string> {
    return this.services.data.receive(stream, session, (message) =>
      this.services.pipeline.submit(
        message,
        { ...clientInfo(session), user: this.user(session) },
        this.recipients.get(session.envelope) ?? [],
      ),
    );
  }

  private user(session: SMTPServerSession): SubmissionUser {
    const user = this.users.get(session);
    // smtp-server answers 530 before MAIL, RCPT and DATA without AUTH; this is the second wall.
    if (!user) throw authRequired();
    return user;
  }

  /** smtp-server options wired to these hooks. */
  options(): Pick<SMTPServerOptions, 'onConnect' | 'onClose' | 'onAuth' | 'onMailFrom' | 'onRcptTo' | 'onData'> {
    return {
      onConnect: (session, done) => bridge(() => this.onConnect(session), done),
      onClose: (session) => this.services.limits.release(session),
      onAuth: (auth, session, done) => bridgeAuth(() => this.onAuth(auth, session), done),
      onMailFrom: (address, session, done) => bridge(() => this.onMailFrom(address, session), done),
      onRcptTo: (address, session, done) => bridge(() => this.onRcptTo(address, session), done),
      onData: (stream, session, done) => bridgeData(stream, () => this.onData(stream, session), done),
    };
  }
}

function authRequired(): SmtpReply {
  return Object.assign(new Error(submissionReplies.authRequired), { responseCode: 530, name: 'SmtpReply' });
}
