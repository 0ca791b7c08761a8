import SMTPConnection from 'nodemailer/lib/smtp-connection';
import type { DsnParams } from './dsn-policy';

export interface HostAttempt {
  host: string;
  ip: string;
  port: number;
  heloName: string;
  requireTls: boolean;
  /** Extra trust anchors for the MX certificate when TLS is required (tests). */
  ca?: string | Buffer;
  connectTimeoutMs: number;
  socketTimeoutMs: number;
  /** The whole session's limit: a drip-fed or endless reply resets the socket timer forever. */
  sessionTimeoutMs: number;
  from: string;
  recipients: string[];
  message: Buffer;
  /** RFC 3461 parameters for MAIL and every RCPT; sent only if the server advertises DSN. */
  dsn?: DsnParams | null;
}

export interface RecipientReply {
  recipient: string;
  /** Undefined when the session broke before this recipient got a final answer. */
  code?: number;
  response: string;
}

export interface HostResult {
  /** False when no SMTP conversation took place (refused, timed out, TLS failed): try the next host. */
  connected: boolean;
  tls: boolean;
  replies: RecipientReply[];
  durationMs: number;
  /** The server advertised DSN and took the message with our DSN parameters: it reports from here on. */
  dsnPassedOn: boolean;
}

type DsnOption = NonNullable<SMTPConnection.Envelope['dsn']>;

interface IdleSession {
  conn: SMTPConnection;
  messages: number;
  timer: NodeJS.Timeout;
  onGone: () => void;
}

/** Postfix's smtp_rset_timeout. */
const RSET_TIMEOUT_MS = 20_000;

export interface SessionCacheOptions {
  /** How long an idle session is kept for the next message to the same host (Postfix: 2 s). */
  idleMs: number;
  /** Messages one session carries before it is closed (Postfix limits reuse by time; 0: no limit). */
  maxMessages: number;
}

/**
 * Open SMTP sessions kept between messages to the same host, as Postfix's connection cache
 * does: a session that ended its transaction cleanly waits `idleMs` for the next message to the
 * same address (and, under an MTA-STS policy, the same verified name). Opening a session costs
 * a TCP handshake, the greeting (servers often delay it on purpose), EHLO and STARTTLS; reusing
 * one costs an RSET. A session that breaks while idle is simply dropped.
 */
export class SmtpSessionCache {
  private readonly idle = new Map<string, IdleSession[]>();

  constructor(private readonly options: SessionCacheOptions) {}

  get enabled(): boolean {
    return this.options.idleMs > 0;
  }

  /** An idle session for `key` that still answers RSET, or null. */
  async take(key: string): Promise<{ conn: SMTPConnection; messages: number } | null> {
    for (;;) {
      const list = this.idle.get(key);
      const session = list?.pop();
      if (!session) return null;
      if (list!.length === 0) this.idle.delete(key);
      clearTimeout(session.timer);
      session.conn.removeListener('error', session.onGone);
      session.conn.removeListener('end', session.onGone);
      // The remote may have closed it a moment ago; RSET proves it is there before a message rides on it.
      const alive = await new Promise<boolean>((resolve) => {
        // A session that stops answering is given up after RSET_TIMEOUT_MS, as Postfix does.
        const timer = setTimeout(() => resolve(false), RSET_TIMEOUT_MS);
        const fail = () => {
          clearTimeout(timer);
          resolve(false);
        };
        session.conn.once('error', fail);
        session.conn.once('end', fail);
        session.conn.reset((err) => {
          clearTimeout(timer);
          session.conn.removeListener('error', fail);
          session.conn.removeListener('end', fail);
          resolve(!err);
        });
      });
      if (alive) return { conn: session.conn, messages: session.messages };
      session.conn.close();
    }
  }

  /** Keeps a session whose last transaction ended cleanly; closes it when it has done enough. */
  give(key: string, conn: SMTPConnection, messages: number): void {
    if (!this.enabled || (this.options.maxMessages > 0 && messages >= this.options.maxMessages)) {
      conn.close();
      return;
    }
    const session: IdleSession = {
      conn,
      messages,
      timer: setTimeout(() => drop(), this.options.idleMs),
      onGone: () => drop(),
    };
    const drop = () => {
      clearTimeout(session.timer);
      const list = this.idle.get(key);
      const at = list?.indexOf(session) ?? -1;
      if (at >= 0) list!.splice(at, 1);
      if (list && list.length === 0) this.idle.delete(key);
      conn.removeListener('error', session.onGone);
      conn.removeListener('end', session.onGone);
      conn.close();
    };
    conn.on('error', session.onGone);
    conn.on('end', session.onGone);
    this.idle.set(key, [...(this.idle.get(key) ?? []), session]);
  }

  /** Idle sessions right now (metrics and tests). */
  size(): number {
    let n = 0;
    for (const list of this.idle.values()) n += list.length;
    return n;
  }

  /** Closes every idle session, for shutdown (the socket is ended; no QUIT is sent). */
  closeAll(): void {
    for (const list of [...this.idle.values()]) {
      for (const session of [...list]) session.onGone();
    }
  }
}

/** Sessions are shared by address and port, TLS requirement, our HELO name and, when TLS is verified, the name. */
function sessionKey(a: HostAttempt): string {
  return [a.ip, a.port, a.heloName, a.requireTls ? `tls:${a.host}` : 'opportunistic'].join('|');
}

/**
 * One SMTP transaction with one host for all recipients of one domain (RFC 5321 §3.3):
 * opportunistic STARTTLS (required when `requireTls`), per-recipient replies to RCPT, and the
 * DATA reply for those accepted. Every failure becomes replies; nothing throws. With a session
 * cache, an idle session to the same host is used when there is one, and a session that ends
 * its transaction cleanly is kept for the next message.
 */
export async function sendToHost(a: HostAttempt, cache?: SmtpSessionCache): Promise<HostResult> {
  const started = Date.now();
  const key = sessionKey(a);
  const cached = cache?.enabled ? await cache.take(key) : null;
  const conn =
    cached?.conn ??
    new SMTPConnection({
      host: a.ip,
      port: a.port,
      name: a.heloName,
      opportunisticTLS: !a.requireTls,
      requireTLS: a.requireTls,
      connectionTimeout: a.connectTimeoutMs,
      greetingTimeout: a.connectTimeoutMs,
      socketTimeout: a.socketTimeoutMs,
      // Verify against the MX name when TLS is required (MTA-STS); opportunistic TLS accepts any
      // certificate, as every MTA does without a policy (RFC 7435).
      tls: { servername: a.host, rejectUnauthorized: a.requireTls, ...(a.ca ? { ca: a.ca } : {}) },
      logger: false,
    });
  if (!cached) {
    // Always one 'error' listener, so an error after the session's own listeners are gone (a
    // reset while closing) is never an unhandled 'error' event that ends the process.
    conn.on('error', () => undefined);
  }
  let connected = cached !== null;
  let keep = false;
  const done = (replies: RecipientReply[], dsnPassedOn = false): HostResult => ({
    connected,
    tls: conn.secure,
    replies,
    durationMs: Date.now() - started,
    dsnPassedOn,
  });
  // Timeouts and resets arrive as 'error' or 'end' events, sometimes without the pending
  // callback ever being called (a greeting that never comes): race every step against them.
  let onError: (err: Error) => void = () => undefined;
  let onEnd: () => void = () => undefined;
  const broken = new Promise<never>((_, reject) => {
    onError = reject;
    onEnd = () => reject(Object.assign(new Error('connection closed by the remote'), { code: 'ECONNECTION' }));
  });
  conn.on('error', onError);
  conn.on('end', onEnd);
  broken.catch(() => undefined);
  const deadline = setTimeout(() => {
    conn.emit(
      'error',
      Object.assign(new Error(`session took longer than ${a.sessionTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
    );
    conn.close();
  }, a.sessionTimeoutMs);
  try {
    if (!cached) {
      await Promise.race([
        broken,
        new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve()))),
      ]);
      connected = true;
    }
    const info = await Promise.race([
      broken,
      new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
        conn.send(
          // @types/nodemailer spells RET 'Full'; nodemailer upper-cases it either way.
          { from: a.from, to: a.recipients, size: a.message.length, ...(a.dsn ? { dsn: a.dsn as DsnOption } : {}) },
          a.message,
          (err, result) => (err ? reject(err) : resolve(result)),
        ),
      ),
    ]);
    keep = true;
    const rejected = new Map(
      (info.rejectedErrors ?? []).map((e) => [(e as { recipient?: string }).recipient ?? '', e]),
    );
    // nodemailer reports the EHLO lines with the result (not in its types); it sent the DSN
    // parameters exactly when they list DSN.
    const ehlo = (info as { ehlo?: string[] }).ehlo ?? [];
    const dsnPassedOn = !!a.dsn && ehlo.some((line) => /^DSN\b/i.test(line));
    return done(
      a.recipients.map((recipient) => {
        const error = rejected.get(recipient);
        if (error) return { recipient, code: error.responseCode, response: error.response ?? error.message };
        return { recipient, code: Number(info.response.slice(0, 3)) || 250, response: info.response };
      }),
      dsnPassedOn,
    );
  } catch (err) {
    const e = err as SMTPConnection.SMTPError & {
      rejectedErrors?: (SMTPConnection.SMTPError & { recipient?: string })[];
    };
    if (e.rejectedErrors?.length) {
      // Every recipient was refused at RCPT: each keeps its own reply (some 4xx, some 5xx). The
      // session itself is fine unless the server said it is closing (421).
      keep = e.responseCode !== 421;
      const byRecipient = new Map(e.rejectedErrors.map((r) => [r.recipient ?? '', r]));
      return done(
        a.recipients.map((recipient) => {
          const r = byRecipient.get(recipient);
          return {
            recipient,
            code: r?.responseCode ?? e.responseCode,
            response: r?.response ?? e.response ?? e.message,
          };
        }),
      );
    }
    // Refused, timed out, TLS failed, reset after the final dot, a drip-fed reply: no final
    // answer, so the recipients are deferred (never marked delivered) and, if the session never
    // started, the next host is tried.
    if (e.code === 'ETLS') {
      // TLS was required (MTA-STS) and could not be had: a policy failure is temporary
      // (RFC 8461 §5), whatever the server answered to STARTTLS.
      const response = `4.7.5 TLS required by the domain's MTA-STS policy failed: ${e.response ?? e.message}`;
      return done(a.recipients.map((recipient) => ({ recipient, response })));
    }
    const response = e.response ?? `${e.code ?? 'ERROR'}: ${e.message}`;
    return done(a.recipients.map((recipient) => ({ recipient, code: e.responseCode, response })));
  } finally {
    clearTimeout(deadline);
    conn.removeListener('error', onError);
    conn.removeListener('end', onEnd);
    if (keep && cache?.enabled) cache.give(key, conn, (cached?.messages ?? 0) + 1);
    else conn.close();
  }
}
