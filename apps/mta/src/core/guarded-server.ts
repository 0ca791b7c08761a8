import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { ProxyProtocol } from '@mailroom/net';
import { randomHex } from './random-id';
import type { SessionLimits } from './session-limits';

type HandleProxy = SMTPServer['_handleProxy'];

/**
 * smtp-server with our per-connection guards attached as each connection is created, and the
 * PROXY protocol read by @mailroom/net. smtp-server's own `useProxy` reads v1 only and trusts
 * exact addresses, not networks; its `_handleProxy` (typed in its declarations) is where it
 * reads the header, before the implicit TLS handshake of port 465, with the accepted socket
 * guarded by `_acceptSocket` meanwhile. We replace that step and keep the rest.
 */
class GuardedSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    private readonly limits: SessionLimits,
    private readonly proxy: ProxyProtocol | undefined,
  ) {
    super(options);
  }

  override connect(...args: Parameters<SMTPServer['connect']>): void {
    super.connect(...args);
    let newest: Parameters<SessionLimits['attach']>[0] | undefined;
    for (const connection of this.connections) newest = connection;
    if (newest && (newest._socket as Socket) === args[0]) this.limits.attach(newest);
  }

  override _expectsProxyHeader(socket: Socket): boolean {
    return this.proxy ? this.proxy.expectsHeader(socket.remoteAddress) : super._expectsProxyHeader(socket);
  }

  override _handleProxy(socket: Socket, callback: Parameters<HandleProxy>[1]): void {
    const proxy = this.proxy;
    if (!proxy?.expectsHeader(socket.remoteAddress)) return super._handleProxy(socket, callback);
    // The id smtp-server would give the session (its format: 16 base-32 digits).
    const id = BigInt(`0x${randomHex(10)}`)
      .toString(32)
      .padStart(16, '0');
    proxy.clientOf(socket).then(
      (client) => {
        if (!client) return callback(new Error('missing or invalid PROXY header'));
        callback(null, { id, remoteAddress: client.address, remotePort: client.port });
      },
      (err: unknown) => callback(err instanceof Error ? err : new Error(String(err))),
    );
  }
}

/**
 * An smtp-server whose every connection is guarded by `limits` (both edges use it), and whose
 * client address comes from a PROXY header when `proxy` trusts the peer.
 */
export function createGuardedServer(
  options: SMTPServerOptions,
  limits: SessionLimits,
  proxy?: ProxyProtocol,
): SMTPServer {
  return new GuardedSmtpServer(options, limits, proxy);
}
