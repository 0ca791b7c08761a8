import type { Logger } from '@mailroom/logger';
import { Maildrop } from './maildrop';
import { MaildropLock } from './maildrop-lock';
import type { InputLine, Pop3Connection } from './pop3-connection';
import { deniedReply, replies } from './pop3-replies';
import { Pop3Transaction } from './pop3-transaction';
import { decodePlain, accessDeniedReason } from './sasl-plain';
import type { Pop3Deps, Pop3Tuning, Pop3User } from './pop3-types';

type TransactionCommand = 'stat' | 'list' | 'uidl' | 'retr' | 'top' | 'dele' | 'rset';
const TRANSACTION: Record<string, TransactionCommand> = {
  STAT: 'stat',
  LIST: 'list',
  UIDL: 'uidl',
  RETR: 'retr',
  TOP: 'top',
  DELE: 'dele',
  RSET: 'rset',
};
const AUTHORIZATION = new Set(['USER', 'PASS', 'AUTH', 'STLS', 'APOP']);
/** Command names the metric counts by name; any other word is 'unknown' (bounded labels). */
const KNOWN = new Set([...Object.keys(TRANSACTION), ...AUTHORIZATION, 'QUIT', 'CAPA', 'NOOP']);

/**
 * One POP3 session (RFC 1939): AUTHORIZATION (CAPA, STLS, USER/PASS, AUTH PLAIN), then
 * TRANSACTION over a locked snapshot, then UPDATE on QUIT. A session that ends any other way
 * (dropped, timed out, revoked, shut down) applies nothing.
 */
export class Pop3Session {
  private pendingUser: string | null = null;
  private saslPending = false;
  private unauthCommands = 0;
  private authFailures = 0;
  private lock: MaildropLock | null = null;
  private tx: Pop3Transaction | null = null;
  private ended = false;
  private updating: Promise<boolean> | null = null;
  user: Pop3User | null = null;

  constructor(
    private readonly conn: Pop3Connection,
    private readonly deps: Pop3Deps,
    private readonly tuning: Pop3Tuning,
    /** STLS is offered: the plain port before TLS. */
    private readonly stlsPort: boolean,
    private readonly logger: Logger,
  ) {}

  async begin(): Promise<void> {
    this.conn.setIdleTimeout(this.tuning.authTimeoutMs);
    this.conn.start(
      (line) => this.onLine(line),
      () => void this.conn.end(replies.idle),
    );
    await this.conn.writeLine(replies.greeting);
  }

  /** The connection closed, however: the lock goes, the marks are forgotten. */
  async closed(): Promise<void> {
    this.ended = true;
    // Deletions already running (QUIT) finish under the lock before it goes.
    await this.updating?.catch(() => undefined);
    const lock = this.lock;
    this.lock = null;
    await lock?.release();
  }

  /** 'mailroom_access' for this mailbox: password changed, disabled, signed out everywhere. */
  revoke(): void {
    // POP3 has no untagged replies: a line in the middle of a RETR would read as message text,
    // so a busy session just closes (the client sees the reply cut short).
    void this.conn.end(this.conn.isBusy ? undefined : replies.revoked);
  }

  /** After lost notifications: ends the session when its mailbox's auth_version moved. */
  async recheck(authenticator: Pop3Deps['authenticator']): Promise<void> {
    const user = this.user;
    if (!user || this.ended) return;
    const current = await authenticator.isCurrent(user).catch(() => true);
    if (!current) this.revoke();
  }

  shutdown(): void {
    void this.conn.end(replies.shuttingDown);
  }

  private async onLine(input: InputLine): Promise<void> {
    if (!this.tx && ++this.unauthCommands > this.tuning.maxUnauthCommands) {
      return this.conn.end(replies.tooManyCommands);
    }
    if (input.kind === 'too-long') {
      this.saslPending = false;
      return this.conn.writeLine(replies.lineTooLong);
    }
    if (this.saslPending) return this.saslResponse(input.text);
    const [word = '', ...args] = input.text.split(' ').filter((w, i) => i === 0 || w !== '');
    const verb = word.toUpperCase();
    this.deps.metrics.commands.inc({ command: KNOWN.has(verb) ? verb : 'unknown' });
    if (verb === 'QUIT') return this.quit();
    if (verb === 'CAPA') return this.capa();
    if (verb === 'NOOP') return this.conn.writeLine(this.tx ? replies.noop : replies.notInThisState);
    const command = TRANSACTION[verb];
    if (command) {
      return this.tx ? this.tx[command](args) : this.conn.writeLine(replies.notInThisState);
    }
    if (!AUTHORIZATION.has(verb)) return this.conn.writeLine(replies.unknownCommand);
    if (this.tx || verb === 'APOP') return this.conn.writeLine(replies.notInThisState);
    return this.authorization(verb, args, input.text);
  }

  private async authorization(verb: string, args: string[], text: string): Promise<void> {
    if (verb === 'STLS') {
      if (!this.stlsPort || this.conn.secure) return this.conn.writeLine(replies.stlsRefused);
      this.pendingUser = null;
      return this.conn.startTls(replies.stls, this.tuning.tlsHandshakeMs);
    }
    // Like Dovecot's disable_plaintext_auth: no password crosses the network in the clear.
    if (!this.conn.secure) return this.conn.writeLine(replies.plaintextDisallowed);
    if (verb === 'USER') {
      if (args.length !== 1) return this.conn.writeLine(replies.syntax('USER name'));
      this.pendingUser = args[0]!;
      return this.conn.writeLine(replies.userOk);
    }
    if (verb === 'PASS') {
      const user = this.pendingUser;
      this.pendingUser = null;
      if (user === null) return this.conn.writeLine(replies.passWithoutUser);
      // RFC 1939 section 7: the password may contain spaces; it is the rest of the line.
      return this.login(user, '', text.slice(5));
    }
    return this.auth(args);
  }

  /** RFC 5034 AUTH: PLAIN with an initial response or a continuation; no argument lists mechanisms. */
  private async auth(args: string[]): Promise<void> {
    if (args.length === 0) return this.conn.write(Buffer.from('+OK\r\nPLAIN\r\n.\r\n'));
    if (args[0]!.toUpperCase() !== 'PLAIN' || args.length > 2) return this.conn.writeLine(replies.unknownMechanism);
    if (args.length === 1) {
      this.saslPending = true;
      return this.conn.writeLine(replies.saslContinue);
    }
    return this.saslResponse(args[1]!);
  }

  private async saslResponse(text: string): Promise<void> {
    this.saslPending = false;
    if (text === '*') return this.conn.writeLine(replies.authAborted);
    const creds = decodePlain(text);
    if (!creds) return this.conn.writeLine(replies.badSasl);
    return this.login(creds.authcid, creds.authzid, creds.password);
  }

  private async login(username: string, authzid: string, password: string): Promise<void> {
    let user: Pop3User;
    try {
      user = await this.deps.authenticator.authenticate({
        username,
        authzid,
        password,
        ip: this.conn.remoteIp,
        service: 'pop3',
      });
    } catch (err) {
      return this.loginRefused(err);
    }
    const opened = await this.open(user);
    if (opened !== null) {
      this.deps.metrics.logins.inc({ result: opened === replies.inUse ? 'in-use' : 'temp-fail' });
      return this.conn.writeLine(opened);
    }
    // A revocation committed after the password check and before this session was known to the
    // 'mailroom_access' listener (this.user) would otherwise be missed.
    if (!(await this.deps.authenticator.isCurrent(user).catch(() => true))) {
      this.deps.metrics.logins.inc({ result: 'revoked' });
      return this.conn.end(replies.revoked);
    }
    this.deps.metrics.logins.inc({ result: 'ok' });
    this.conn.setIdleTimeout(this.tuning.idleTimeoutMs);
    this.logger.info({ mailboxId: user.mailboxId, messages: this.tx!.maildrop.messages.length }, 'pop3 login');
    await this.conn.writeLine(replies.loggedIn);
  }

  private async loginRefused(err: unknown): Promise<void> {
    const reason = accessDeniedReason(err);
    this.deps.metrics.logins.inc({ result: reason ?? 'temp-fail' });
    if (reason === null) {
      this.logger.error({ err }, 'pop3 authentication failed with an error');
      return this.conn.writeLine(replies.tempFail);
    }
    if (++this.authFailures >= this.tuning.maxAuthFailures) {
      return this.conn.end(`${deniedReply(reason)}\r\n${replies.tooManyFailures}`);
    }
    await this.conn.writeLine(deniedReply(reason));
  }

  /** The maildrop lock and snapshot; null when the session may start, else the -ERR reply. */
  private async open(user: Pop3User): Promise<string | null> {
    const key = `${this.deps.config.QUEUE_PREFIX}:pop3-lock:${user.tenantId}:${user.mailboxId}`;
    let lock: MaildropLock | null;
    try {
      lock = await MaildropLock.acquire(this.deps.redis, key, this.tuning.lockTtlMs);
    } catch (err) {
      this.logger.error({ err }, 'pop3 maildrop lock unavailable');
      return replies.tempFail;
    }
    if (!lock) return replies.inUse;
    try {
      const maildrop = await Maildrop.load(this.deps.store, user);
      if (this.ended) throw new Error('connection closed during login');
      this.lock = lock;
      this.user = user;
      this.tx = new Pop3Transaction(this.conn, this.deps.store, user, maildrop, this.logger);
      return null;
    } catch (err) {
      await lock.release();
      this.logger.error({ err, mailboxId: user.mailboxId }, 'pop3 maildrop snapshot failed');
      return replies.tempFail;
    }
  }

  private capa(): Promise<void> {
    const secure = this.conn.secure;
    const lines = ['TOP', 'UIDL', 'RESP-CODES', 'AUTH-RESP-CODE', 'PIPELINING'];
    // Only what this connection can use now (RFC 2449 section 5): no USER or SASL before TLS.
    if (secure && !this.tx) lines.push('USER', 'SASL PLAIN');
    if (this.stlsPort && !secure) lines.push('STLS');
    lines.push('IMPLEMENTATION Mailroom');
    return this.conn.write(Buffer.from(`${[replies.capa, ...lines, '.'].join('\r\n')}\r\n`));
  }

  private async quit(): Promise<void> {
    const tx = this.tx;
    if (!tx) return this.conn.end(replies.logout);
    // Deletions happen here and only here (RFC 1939 section 6), still under the maildrop lock;
    // a session that lost it applies none (RFC 1939 section 8: one session per maildrop).
    if (this.lock?.lost) return this.conn.end(replies.lockLost);
    this.updating = tx.update();
    const ok = await this.updating;
    await this.conn.end(ok ? replies.logout : replies.logoutNotAllDeleted);
  }
}
