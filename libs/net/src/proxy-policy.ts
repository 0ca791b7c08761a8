import type { Socket } from 'node:net';
import type { Logger } from 'pino';
import { ipInCidrs } from '@mailroom/rules';
import { readProxyHeader } from './proxy-header-reader';

/** The client a connection stands for: from the PROXY header, or the socket's own peer. */
export interface ClientPeer {
  address: string;
  port: number;
  /** The proxy's address when the client came through one. */
  proxy?: string;
}

export interface ProxyProtocolOptions {
  /** PROXY_PROTOCOL_TRUSTED_NETWORKS: CIDRs whose connections must start with a header. */
  trustedNetworks: readonly string[];
  /** PROXY_PROTOCOL_TIMEOUT_MS: how long a trusted peer has to send it. */
  timeoutMs: number;
  logger: Logger;
  /** Names the listener in log lines ("smtp", "imaps", ...). */
  listener: string;
}

/**
 * The PROXY protocol as Postfix (`smtpd_upstream_proxy_protocol`) and Dovecot
 * (`haproxy_trusted_networks`) apply it. A connection from a trusted network must begin with a
 * v1 or v2 header, or it is closed with a log line (a load balancer that lost `send-proxy`
 * would otherwise make every client look like the balancer). A connection from anywhere else is
 * served as it is, its socket address the client's, and bytes that look like a header are just
 * its first command: honouring them would let anyone claim any address.
 */
export class ProxyProtocol {
  constructor(private readonly options: ProxyProtocolOptions) {}

  get enabled(): boolean {
    return this.options.trustedNetworks.length > 0;
  }

  /** True when a connection from `address` must start with a PROXY header. */
  expectsHeader(address: string | undefined): boolean {
    return this.enabled && address !== undefined && ipInCidrs(address, this.options.trustedNetworks);
  }

  /**
   * The client behind `socket`; null when a trusted peer sent no valid header in time, and the
   * socket is then destroyed. Before the header only; TLS, if any, starts after it.
   */
  async clientOf(socket: Socket): Promise<ClientPeer | null> {
    const own = { address: unmapped(socket.remoteAddress ?? ''), port: socket.remotePort ?? 0 };
    if (!this.expectsHeader(socket.remoteAddress)) return own;
    const read = await readProxyHeader(socket, this.options.timeoutMs);
    if (!read.ok) {
      this.options.logger.warn(
        { listener: this.options.listener, peer: own.address, reason: read.reason },
        'PROXY protocol header missing or invalid from a trusted proxy; connection closed',
      );
      socket.on('error', () => undefined);
      socket.destroy();
      return null;
    }
    const { header } = read;
    if (header.command === 'local') return own;
    const { sourceAddress, sourcePort } = header.addresses;
    return { address: unmapped(sourceAddress), port: sourcePort, proxy: own.address };
  }
}

// An IPv4 client on a dual-stack socket (or in a v2 IPv6 block) is written as ::ffff:a.b.c.d.
function unmapped(address: string): string {
  return address.replace(/^::ffff:(\d+\.\d+\.\d+\.\d+)$/i, '$1');
}

/** The listener's PROXY protocol policy from config; undefined when no network is trusted. */
export function proxyProtocolFromConfig(
  config: { PROXY_PROTOCOL_TRUSTED_NETWORKS: readonly string[]; PROXY_PROTOCOL_TIMEOUT_MS: number },
  logger: Logger,
  listener: string,
): ProxyProtocol | undefined {
  if (config.PROXY_PROTOCOL_TRUSTED_NETWORKS.length === 0) return undefined;
  return new ProxyProtocol({
    trustedNetworks: config.PROXY_PROTOCOL_TRUSTED_NETWORKS,
    timeoutMs: config.PROXY_PROTOCOL_TIMEOUT_MS,
    logger,
    listener,
  });
}
