import SMTPConnection from 'nodemailer/lib/smtp-connection';

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
}

/**
 * One SMTP transaction with one host for all recipients of one domain (RFC 5321 §3.3):
 * opportunistic STARTTLS (required when `requireTls`), per-recipient replies to RCPT, and the
 * DATA reply for those accepted. Every failure becomes replies; nothing throws.
 */
export async function sendToHost(a: HostAttempt): Promise<HostResult> {
  const started = Date.now();
  const conn = new SMTPConnection({
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
  let connected = false;
  const done = (replies: RecipientReply[]): HostResult => ({
    connected,
    tls: conn.secure,
    replies,
    durationMs: Date.now() - started,
  });
  // Timeouts and resets arrive as 'error' or 'end' events, sometimes without the pending
  // callback ever being called (a greeting that never comes): race every step against them.
  const broken = new Promise<never>((_, reject) => {
    conn.on('error', reject);
    conn.on('end', () => reject(Object.assign(new Error('connection closed by the remote'), { code: 'ECONNECTION' })));
  });
  broken.catch(() => undefined);
  const deadline = setTimeout(() => {
    conn.emit(
      'error',
      Object.assign(new Error(`session took longer than ${a.sessionTimeoutMs} ms`), { code: 'ETIMEDOUT' }),
    );
    conn.close();
  }, a.sessionTimeoutMs);
  try {
    await Promise.race([
      broken,
      new Promise<void>((resolve, reject) => conn.connect((err) => (err ? reject(err) : resolve()))),
    ]);
    connected = true;
    const info = await Promise.race([
      broken,
      new Promise<SMTPConnection.SentMessageInfo>((resolve, reject) =>
        conn.send({ from: a.from, to: a.recipients, size: a.message.length }, a.message, (err, result) =>
          err ? reject(err) : resolve(result),
        ),
      ),
    ]);
    const rejected = new Map(
      (info.rejectedErrors ?? []).map((e) => [(e as { recipient?: string }).recipient ?? '', e]),
    );
    return done(
      a.recipients.map((recipient) => {
        const error = rejected.get(recipient);
        if (error) return { recipient, code: error.responseCode, response: error.response ?? error.message };
        return { recipient, code: Number(info.response.slice(0, 3)) || 250, response: info.response };
      }),
    );
  } catch (err) {
    const e = err as SMTPConnection.SMTPError & {
      rejectedErrors?: (SMTPConnection.SMTPError & { recipient?: string })[];
    };
    if (e.rejectedErrors?.length) {
      // Every recipient was refused at RCPT: each keeps its own reply (some 4xx, some 5xx).
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
    conn.close();
  }
}
