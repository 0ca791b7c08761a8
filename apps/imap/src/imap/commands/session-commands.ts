import type { ParsedCommand } from '../command-parser';
import { astring, expectCount, keyword } from '../command-args';
import { deniedReason } from '../authenticator';
import { ImapBad, loginFailure } from '../imap-errors-map';
import type { CommandHandler, ImapSession } from '../imap-session';

const AUTH_TIMEOUT_MS = 60_000;

export const capability: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 0);
  await s.send(`* CAPABILITY ${s.capabilities().join(' ')}`);
  return 'OK CAPABILITY completed';
};

export const noop: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 0);
  // NOOP and CHECK are how a client asks for news (RFC 9051 §6.1.2): ask the store even
  // without a notification (a modseq comparison when nothing changed).
  await s.syncView(true, true);
  return 'OK NOOP completed';
};

export const logout: CommandHandler = async (s) => {
  await s.send('* BYE Mailroom IMAP logging out');
  s.state = 'logout';
  return 'OK LOGOUT completed';
};

export const id: CommandHandler = async (s) => {
  // RFC 2971: the client's ID is only informative; ours names the server.
  await s.send('* ID', [['name', 'Mailroom', 'vendor', 'Mailroom']]);
  return 'OK ID completed';
};

export const enable: CommandHandler = async (s, cmd) => {
  if (cmd.args.length === 0) throw new ImapBad('ENABLE needs capabilities');
  const enabled: string[] = [];
  for (const arg of cmd.args) {
    const cap = keyword(arg, 'capability');
    if (cap === 'CONDSTORE') s.condstore = true;
    // RFC 7162 §3.2.3: ENABLE QRESYNC is a CONDSTORE enabling command too.
    else if (cap === 'QRESYNC') s.qresync = s.condstore = true;
    else if (cap === 'UTF8=ACCEPT') s.utf8 = true;
    else if (cap === 'IMAP4REV2') s.rev2 = true;
    else continue;
    enabled.push(cap === 'IMAP4REV2' ? 'IMAP4rev2' : cap);
  }
  await s.send(`* ENABLED${enabled.map((c) => ` ${c}`).join('')}`);
  return 'OK ENABLE completed';
};

export const namespace: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 0);
  await s.send('* NAMESPACE', [[['', '/']], null, null]);
  return 'OK NAMESPACE completed';
};

/** RFC 4978 COMPRESS DEFLATE: the tagged OK is the last uncompressed byte in both directions. */
export const compress: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 1);
  const algorithm = keyword(cmd.args[0], 'compression algorithm');
  if (algorithm !== 'DEFLATE') throw new ImapBad(`Unknown compression algorithm ${algorithm}; DEFLATE is supported`);
  if (s.conn.compressed) return 'NO [COMPRESSIONACTIVE] DEFLATE is already active';
  await s.send(`${cmd.tag} OK DEFLATE active`);
  await s.conn.startCompression();
  s.deps.metrics.compressedSessions.inc();
  return '';
};

export const starttls: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 0);
  if (s.conn.secure) throw new ImapBad('TLS is already active');
  await s.send(`${cmd.tag} OK Begin TLS negotiation now`);
  await s.conn.startTls(s.deps.secureContext);
  return '';
};

export const login: CommandHandler = async (s, cmd) => {
  expectCount(cmd.args, 2);
  if (!s.conn.secure) return 'NO [PRIVACYREQUIRED] Use STARTTLS first (LOGINDISABLED)';
  return authenticate(s, astring(cmd.args[0], 'user name'), '', astring(cmd.args[1], 'password'));
};

export const authenticatePlain: CommandHandler = async (s, cmd) => {
  const mech = keyword(cmd.args[0], 'mechanism');
  if (mech !== 'PLAIN') return 'NO [CANNOT] Unsupported authentication mechanism';
  if (!s.conn.secure) return 'NO [PRIVACYREQUIRED] Use STARTTLS first';
  let response = cmd.args[1] ? astring(cmd.args[1]) : null;
  if (response === null) {
    // RFC 4959 SASL-IR absent: ask for the initial response with an empty challenge.
    await s.send('+ ');
    const line = await s.conn.readLine(AUTH_TIMEOUT_MS);
    if (line === null) return '';
    response = line.toString('latin1');
  }
  if (response === '*') return 'BAD Authentication cancelled';
  const decoded = Buffer.from(response === '=' ? '' : response, 'base64').toString('utf8');
  const parts = decoded.split('\0');
  if (parts.length !== 3) return 'BAD Malformed PLAIN response';
  return authenticate(s, parts[1]!, parts[0]!, parts[2]!);
};

async function authenticate(s: ImapSession, username: string, authzid: string, password: string): Promise<string> {
  try {
    const user = await s.deps.authenticator.authenticate({
      username,
      authzid,
      password,
      ip: s.conn.remoteAddress,
      service: 'imap',
    });
    s.user = user;
    s.state = 'authenticated';
    s.deps.registry.add(s);
    s.deps.metrics.logins.inc({ result: 'ok' });
    return `OK [CAPABILITY ${s.capabilities().join(' ')}] Logged in`;
  } catch (err) {
    const reason = deniedReason(err);
    if (reason === null) throw err;
    s.deps.metrics.logins.inc({ result: reason });
    return loginFailure(reason);
  }
}

/** Handlers shared by every state (RFC 9051 §6.1). */
export function anyStateCommands(): Record<string, CommandHandler> {
  return { CAPABILITY: capability, NOOP: noop, LOGOUT: logout, ID: id };
}

/** Handlers of the not-authenticated state (RFC 9051 §6.2). */
export function preAuthCommands(): Record<string, CommandHandler> {
  return { STARTTLS: starttls, LOGIN: login, AUTHENTICATE: authenticatePlain };
}

export type { ParsedCommand };
