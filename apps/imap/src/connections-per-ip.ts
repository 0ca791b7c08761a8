/** Frees a connection's slot (once; later calls do nothing). */
export type Release = () => void;

/**
 * Counts open connections per client IP under a limit: in this process (ConnectionsPerIp) or, with
 * IMAP_WORKERS above 1, in the cluster primary for every worker (imap-cluster.ts).
 */
export interface ConnectionGate {
  readonly limit: number;
  /** Counts a new connection; its release, or null when the address is at the limit. */
  acquire(remoteAddress: string | undefined): Release | null | Promise<Release | null>;
}

/**
 * Open connections per client IP, with a cap (as Dovecot's mail_max_userip_connections, but
 * counted at accept, before login: one address cannot hold every socket of the process).
 */
export class ConnectionsPerIp implements ConnectionGate {
  private readonly open = new Map<string, number>();

  constructor(readonly limit: number) {}

  /** Counts a new connection; returns its release, or null when the address is at the limit. */
  acquire(remoteAddress: string | undefined): Release | null {
    const ip = normalise(remoteAddress);
    const count = this.open.get(ip) ?? 0;
    if (count >= this.limit) return null;
    this.open.set(ip, count + 1);
    let released = false;
    return () => {
      if (released) return;
      released = true;
      const left = (this.open.get(ip) ?? 1) - 1;
      if (left > 0) this.open.set(ip, left);
      else this.open.delete(ip);
    };
  }
}

/** An IPv4 client on a dual-stack listener is the same address as on an IPv4 one. */
export function normalise(address: string | undefined): string {
  return (address ?? '').replace(/^::ffff:/, '');
}
