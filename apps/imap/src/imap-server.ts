import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { TlsPair } from '@mailroom/config';
import { acceptTls, type ProxyProtocol } from '@mailroom/net';
import { ConnectionsPerIp, type ConnectionGate, type Release } from './connections-per-ip';
import { imapCommandTable } from './imap/commands/command-table';
import { ImapConnection, type ConnectionLimits } from './imap/imap-connection';
import { ImapSession, type SessionDeps, type SessionOptions } from './imap/imap-session';

export interface ImapServerOptions extends Partial<SessionOptions> {
  host: string;
  /** STARTTLS port (143); 0 picks a free one. */
  port: number;
  /** Implicit TLS port (993). */
  tlsPort: number;
  maxLine?: number;
  maxLiteral?: number;
  /** Open connections one client IP may hold (IMAP_MAX_CONNECTIONS_PER_IP). */
  maxConnectionsPerIp: number;
  /** Counts them instead of this process (a cluster worker asks the primary). */
  connectionGate?: ConnectionGate;
  /** PROXY protocol on both listeners (PROXY_PROTOCOL_TRUSTED_NETWORKS); absent: off. */
  proxy?: ProxyProtocol;
}

export interface RunningImap {
  ports: { imap: number; imaps: number };
  close(): Promise<void>;
}

// A client that connects to 993 and never starts the handshake must not hold the socket.
const TLS_HANDSHAKE_MS = 30_000;

const DEFAULTS: SessionOptions = {
  appendLimit: 50 * 1024 * 1024,
  preAuthTimeoutMs: 60_000,
  preAuthMaxCommands: 20,
  authTimeoutMs: 30 * 60_000,
  idlePollMs: 30_000,
};

function listen(server: net.Server, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve((server.address() as net.AddressInfo).port));
  });
}

/**
 * The IMAP listeners: STARTTLS on `port`, implicit TLS on `tlsPort`, one ImapSession per
 * connection. Sessions are tracked so close() can end them.
 */
export async function startImap(
  options: ImapServerOptions,
  deps: Omit<SessionDeps, 'options' | 'secureContext'> & { tls: TlsPair; logger: Logger },
): Promise<RunningImap> {
  const sessionOptions: SessionOptions = { ...DEFAULTS, ...definedOnly(options) };
  const limits: ConnectionLimits = {
    maxLine: options.maxLine ?? 64 * 1024,
    appendLimit: sessionOptions.appendLimit,
    maxLiteral: options.maxLiteral ?? 1024 * 1024,
  };
  const secureContext = tls.createSecureContext({ cert: deps.tls.cert, key: deps.tls.key });
  const sessionDeps: SessionDeps = { ...deps, options: sessionOptions, secureContext };
  const table = imapCommandTable();
  const sockets = new Set<net.Socket>();
  const perIp = options.connectionGate ?? new ConnectionsPerIp(options.maxConnectionsPerIp);
  // The client's address, from the PROXY header when a trusted proxy sent one; before any TLS.
  const accept = async (raw: net.Socket, implicitTls: boolean) => {
    raw.on('error', () => undefined);
    sockets.add(raw);
    raw.once('close', () => sockets.delete(raw));
    const client = options.proxy
      ? await options.proxy.clientOf(raw)
      : { address: raw.remoteAddress ?? '', port: raw.remotePort ?? 0 };
    if (!client) return;
    const socket = implicitTls
      ? await acceptTls(raw, secureContext, TLS_HANDSHAKE_MS, (err) =>
          deps.logger.debug({ err: err.message }, 'imaps handshake failed'),
        )
      : raw;
    if (!socket) return;
    const admitted = perIp.acquire(client.address);
    if (!(admitted instanceof Promise)) return start(socket, implicitTls, client.address, admitted);
    admitted.then(
      (release) => start(socket, implicitTls, client.address, release),
      () => socket.destroy(),
    );
  };
  const start = (socket: net.Socket, implicitTls: boolean, remoteAddress: string, release: Release | null) => {
    if (!release) {
      // RFC 9051 §7.1.5: BYE as the greeting; RFC 5530 LIMIT names what was hit.
      deps.metrics.refused.inc({ reason: 'per-ip' });
      socket.end(`* BYE [LIMIT] ${tooManyFromIp(perIp.limit)}\r\n`);
      setTimeout(() => socket.destroy(), 2_000).unref();
      return;
    }
    // Gone while the cluster primary was asked.
    if (socket.destroyed) return release();
    socket.once('close', release);
    socket.setNoDelay(true);
    const connection = new ImapConnection(socket, limits, remoteAddress);
    const session = new ImapSession(connection, sessionDeps, table, implicitTls);
    void session.run();
  };
  const plain = net.createServer((socket) => void accept(socket, false));
  // Not a tls.Server: a PROXY header comes before the handshake (acceptTls).
  const secure = net.createServer((socket) => void accept(socket, true));
  const ports = {
    imap: await listen(plain, options.port, options.host),
    imaps: await listen(secure, options.tlsPort, options.host),
  };
  return {
    ports,
    close: async () => {
      const closing = [plain, secure].map((s) => new Promise<void>((resolve) => s.close(() => resolve())));
      for (const socket of sockets) socket.destroy();
      await Promise.all(closing);
    },
  };
}

/** The sentence of a refusal for too many connections from one address (IMAP and POP3). */
export function tooManyFromIp(limit: number): string {
  return `Too many connections from your IP address (limit ${limit}); close some and try again`;
}

function definedOnly(options: Partial<SessionOptions>): Partial<SessionOptions> {
  const out: Partial<SessionOptions> = {};
  for (const key of Object.keys(DEFAULTS) as Array<keyof SessionOptions>) {
    if (options[key] !== undefined) out[key] = options[key];
  }
  return out;
}
