import net from 'node:net';
import tls from 'node:tls';
import type { Logger } from 'pino';
import type { TlsPair } from '@mailroom/config';
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
}

export interface RunningImap {
  ports: { imap: number; imaps: number };
  close(): Promise<void>;
}

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
  const accept = (socket: net.Socket, implicitTls: boolean) => {
    socket.on('error', () => undefined);
    sockets.add(socket);
    socket.once('close', () => sockets.delete(socket));
    const admitted = perIp.acquire(socket.remoteAddress);
    if (!(admitted instanceof Promise)) return start(socket, implicitTls, admitted);
    admitted.then(
      (release) => start(socket, implicitTls, release),
      () => socket.destroy(),
    );
  };
  const start = (socket: net.Socket, implicitTls: boolean, release: Release | null) => {
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
    const session = new ImapSession(new ImapConnection(socket, limits), sessionDeps, table, implicitTls);
    void session.run();
  };
  const plain = net.createServer((socket) => accept(socket, false));
  const secure = tls.createServer({ cert: deps.tls.cert, key: deps.tls.key }, (socket) => accept(socket, true));
  secure.on('tlsClientError', (err) => deps.logger.debug({ err: err.message }, 'imaps handshake failed'));
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
