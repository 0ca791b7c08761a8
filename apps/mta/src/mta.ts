import type { RedisClient } from '@mailroom/queue';
import type { SMTPServer } from 'smtp-server';
import type { Logger } from 'pino';
import type { Config, TlsPair } from '@mailroom/config';
import type { Db } from '@mailroom/db';
import { createRedis } from '@mailroom/queue';
import { configureBlobStore } from '@mailroom/mailstore';
import { startRecipientCache } from './core/recipient-cache';
import { createInboundServer, type InboundDeps } from './inbound/inbound-mx';
import { createSubmissionServers, type SubmissionDeps } from './submission/submission-server';

export interface MtaListeners {
  inbound: SMTPServer;
  submission: SMTPServer;
  submissions: SMTPServer;
}

export interface RunningMta {
  ports: { inbound: number; submission: number; submissions: number };
  close(): Promise<void>;
}

/**
 * The three SMTP listeners. Inbound (MX, port 25) never relays (apps/mta/src/inbound);
 * submission (587 STARTTLS, 465 implicit TLS) needs AUTH (apps/mta/src/submission).
 */
export function createListeners(
  config: Config,
  tls: TlsPair,
  logger: Logger,
  deps: Omit<InboundDeps, 'tls' | 'logger'> & Omit<SubmissionDeps, 'tls' | 'logger' | 'prisma'>,
): MtaListeners {
  const inbound = createInboundServer(config, {
    prisma: deps.prisma,
    dns: deps.dns,
    tls,
    logger,
    onQueued: deps.onQueued,
    recipientCache: deps.recipientCache,
  });
  const { submission, submissions } = createSubmissionServers(config, {
    prisma: deps.prisma,
    redis: deps.redis,
    onQueued: deps.onQueued,
    tuning: deps.tuning,
    recipientCache: deps.recipientCache,
    tls,
    logger,
  });
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
  prisma: Db;
  logger: Logger;
  tls: TlsPair;
  dns?: InboundDeps['dns'];
  /** Counters for AUTH failures and sending limits; a connection to REDIS_URL when absent. */
  redis?: RedisClient;
  /** Called after a submission commits, with the deliveries it queued. Default: nothing. */
  onQueued?: SubmissionDeps['onQueued'];
  /** Submission limits that have no config setting yet (tests lower them). */
  submissionTuning?: SubmissionDeps['tuning'];
}

/** Builds and starts the listeners in this process (the entry point, and tests that need no process). */
export async function startMta(config: Config, deps: MtaDeps): Promise<RunningMta> {
  configureBlobStore(config);
  const ownRedis = deps.redis ? null : createRedis(config, 'client');
  // Counters fail open when Redis is down; the error event must not crash the process.
  ownRedis?.on('error', (err: Error) => deps.logger.debug({ err: err.message }, 'mta redis error'));
  const recipients = await startRecipientCache({
    url: config.DATABASE_URL,
    size: config.RECIPIENT_CACHE_SIZE,
    ttlMs: config.RECIPIENT_CACHE_TTL_SECONDS * 1_000,
    logger: deps.logger,
  });
  const listeners = createListeners(config, deps.tls, deps.logger, {
    prisma: deps.prisma,
    dns: deps.dns,
    redis: deps.redis ?? ownRedis!,
    onQueued: deps.onQueued ?? (() => undefined),
    tuning: deps.submissionTuning,
    recipientCache: recipients.cache,
  });
  const running = await startListeners(listeners, config);
  return {
    ports: running.ports,
    close: async () => {
      await running.close();
      await recipients.close();
      ownRedis?.disconnect();
    },
  };
}
