import net from 'node:net';
import tls from 'node:tls';
import { acceptTls } from '@mailroom/net';
import { ConnectionsPerIp, type Release } from '../connections-per-ip';
import { Pop3Connection } from './pop3-connection';
import { replies } from './pop3-replies';
import { Pop3Session } from './pop3-session';
import { DEFAULT_TUNING, type Pop3Deps } from './pop3-types';

export interface RunningPop3 {
  ports: { pop3: number; pop3s: number };
  close(): Promise<void>;
}

/**
 * POP3 on POP3_PORT (plain, STLS before login) and POP3S_PORT (implicit TLS), with the MTA's
 * certificate. Sessions of a mailbox whose access is revoked ('mailroom_access') end at once.
 */
export async function startPop3(deps: Pop3Deps): Promise<RunningPop3> {
  const tuning = { ...DEFAULT_TUNING, ...deps.tuning };
  const secureContext = tls.createSecureContext({ cert: deps.tls.cert, key: deps.tls.key });
  const sessions = new Set<Pop3Session>();
  const logger = deps.logger.child({ service: 'pop3' });
  const unsubscribe = [
    deps.events.onRevoked((tenantId, mailboxId) => {
      for (const s of sessions) {
        if (s.user?.tenantId === tenantId && s.user.mailboxId === mailboxId) s.revoke();
      }
    }),
    // Revocations sent while LISTEN was down are lost: every logged-in session checks its auth_version.
    deps.events.onReconnected(() => {
      for (const s of sessions) void s.recheck(deps.authenticator);
    }),
  ];

  const perIp = deps.connectionGate ?? new ConnectionsPerIp(deps.config.POP3_MAX_CONNECTIONS_PER_IP);
  const { metrics } = deps;
  // The client's address, from the PROXY header when a trusted proxy sent one; before any TLS.
  const accept = async (raw: net.Socket, secure: boolean, stlsPort: boolean) => {
    raw.on('error', () => raw.destroy());
    const client = deps.proxy
      ? await deps.proxy.clientOf(raw)
      : { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 };
    if (!client) return;
    const socket = secure ? await acceptTls(raw, secureContext, tuning.tlsHandshakeMs) : raw;
    if (!socket) return;
    const admitted = perIp.acquire(client.address);
    if (!(admitted instanceof Promise)) return start(socket, secure, stlsPort, client.address, admitted);
    admitted.then(
      (release) => start(socket, secure, stlsPort, client.address, release),
      () => socket.destroy(),
    );
  };
  const start = (socket: net.Socket, secure: boolean, stlsPort: boolean, ip: string, release: Release | null) => {
    if (!release) {
      metrics.refused.inc({ reason: 'per-ip' });
      socket.end(`${replies.tooManyFromIp(perIp.limit)}\r\n`);
      setTimeout(() => socket.destroy(), 2_000).unref();
      return;
    }
    // Gone while the cluster primary was asked.
    if (socket.destroyed) return release();
    // The raw socket's close frees the slot however the session ends (a TLS socket's too).
    socket.once('close', release);
    metrics.sessions.inc();
    let session: Pop3Session | null = null;
    const conn = new Pop3Connection(socket, secure, secureContext, tuning.maxLineBytes, ip, () => {
      metrics.sessions.dec();
      if (session) sessions.delete(session);
      void session?.closed();
    });
    session = new Pop3Session(conn, deps, tuning, stlsPort, logger);
    sessions.add(session);
    session.begin().catch(() => conn.closeNow());
  };
  const plain = net.createServer((socket) => void accept(socket, false, true));
  // Not a tls.Server: a PROXY header comes before the handshake (acceptTls).
  const implicit = net.createServer((socket) => void accept(socket, true, false));
  for (const server of [plain, implicit]) {
    server.on('error', (err) => logger.warn({ err }, 'pop3 listener error'));
  }
  const ports = {
    pop3: await listen(plain, deps.config.POP3_PORT, deps.config.IMAP_HOST),
    pop3s: await listen(implicit, deps.config.POP3S_PORT, deps.config.IMAP_HOST),
  };
  return {
    ports,
    close: async () => {
      for (const off of unsubscribe) off();
      const stopped = [plain, implicit].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      // A session cut by shutdown applies no deletions: its client fetches again next time.
      for (const s of sessions) s.shutdown();
      await Promise.all(stopped);
    },
  };
}

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => {
      server.removeListener('error', reject);
      const address = server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}
