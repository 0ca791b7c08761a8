import type { Socket } from 'node:net';
import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { SessionLimits } from './session-limits';

/** smtp-server with our per-connection guards attached as each connection is created. */
class GuardedSmtpServer extends SMTPServer {
  constructor(
    options: SMTPServerOptions,
    private readonly limits: SessionLimits,
  ) {
    super(options);
  }

  override connect(...args: Parameters<SMTPServer['connect']>): void {
    super.connect(...args);
    let newest: Parameters<SessionLimits['attach']>[0] | undefined;
    for (const connection of this.connections) newest = connection;
    if (newest && (newest._socket as Socket) === args[0]) this.limits.attach(newest);
  }
}

/** An smtp-server whose every connection is guarded by `limits` (both edges use it). */
export function createGuardedServer(options: SMTPServerOptions, limits: SessionLimits): SMTPServer {
  return new GuardedSmtpServer(options, limits);
}
