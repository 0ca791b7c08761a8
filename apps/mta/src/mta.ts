import { SMTPServer, type SMTPServerOptions } from 'smtp-server';
import type { Logger } from 'pino';
import type { Config, TlsPair } from '@mailroom/config';
import type { PrismaClient } from '@mailroom/db';
import { createInboundServer, type InboundDeps } from './inbound/inbound-mx';

export interface MtaListeners {
  inbound: SMTPServer;
  submission: SMTPServer;
  submissions: SMTPServer;
}

export interface RunningMta {
  ports: { inbound: number; submission: number; submissions: number };
  close(): Promise<void>;
}

/** SMTP reply with an enhanced status code (RFC 3463), as smtp-server sends it. */
export function smtpError(code: number, message: string): Error & { responseCode: number } {
  return Object.assign(new Error(message), { responseCode: code });
}

function baseOptions(config: Config, tls: TlsPair, logger: Logger): SMTPServerOptions {
  return {
    name: config.MX_HOSTNAME,
    banner: 'Mailroom ESMTP',
    key: tls.key,
    cert: tls.cert,
    logger: false,
    disableReverseLookup: true,
    onConnect(session, callback) {
      logger.debug({ sessionId: session.id, remote: session.remoteAddress }, 'smtp connect');
      callback();
    },
  };
}

/**
 * The three SMTP listeners. Inbound (MX, port 25) never relays (apps/mta/src/inbound);
 * submission (587 STARTTLS, 465 implicit TLS) needs AUTH. Until the submission pipeline lands,
 * AUTH answers with a temporary failure, so clients keep the message and retry.
 */
export function createListeners(
  config: Config,
  tls: TlsPair,
  logger: Logger,
  deps: Omit<InboundDeps, 'tls' | 'logger'>,
): MtaListeners {
  const inbound = createInboundServer(config, { ...deps, tls, logger });
  const submissionOptions: SMTPServerOptions = {
    ...baseOptions(config, tls, logger),
    authMethods: ['PLAIN', 'LOGIN'],
    onAuth(_auth, _session, callback) {
      callback(smtpError(454, '4.7.0 Authentication is temporarily unavailable'));
    },
  };
  const submission = new SMTPServer({ ...submissionOptions });
  const submissions = new SMTPServer({ ...submissionOptions, secure: true });
  for (const [name, server] of Object.entries({ inbound, submission, submissions })) {
    server.on('error', (err) => logger.warn({ err, listener: name }, 'smtp listener error'));
  }
  return { inbound, submission, submissions };
}

function listen(server: SMTPServer, port: number, host: string): Promise<number> {
  return new Promise((resolve, reject) => {
    server.server.once('error', reject);
    server.listen(port, host, () => {
      const address = server.server.address();
      resolve(typeof address === 'object' && address ? address.port : port);
    });
  });
}

export async function startListeners(listeners: MtaListeners, config: Config): Promise<RunningMta> {
  const ports = {
    inbound: await listen(listeners.inbound, config.SMTP_PORT, config.SMTP_HOST),
    submission: await listen(listeners.submission, config.SUBMISSION_PORT, config.SMTP_HOST),
    submissions: await listen(listeners.submissions, config.SUBMISSIONS_PORT, config.SMTP_HOST),
  };
  return {
    ports,
    close: async () => {
      await Promise.all(
        Object.values(listeners).map((s: SMTPServer) => new Promise<void>((resolve) => s.close(() => resolve()))),
      );
    },
  };
}

export interface MtaDeps {
  prisma: PrismaClient;
  logger: Logger;
  tls: TlsPair;
  dns?: InboundDeps['dns'];
}

/** Builds and starts the listeners in this process (the entry point, and tests that need no process). */
export async function startMta(config: Config, deps: MtaDeps): Promise<RunningMta> {
  const listeners = createListeners(config, deps.tls, deps.logger, { prisma: deps.prisma, dns: deps.dns });
  return startListeners(listeners, config);
}
