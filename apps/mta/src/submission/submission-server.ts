import {
  AccessAuthenticator,
  accessOptions,
  LoginThrottle,
  loginThrottleOptions,
  RedisCounters,
} from '@mailroom/access';
import { MailStore } from '@mailroom/mailstore';
import path from 'node:path';
import type { RedisClient } from '@mailroom/queue';
import type { Logger } from 'pino';
import type { SMTPServer, SMTPServerOptions } from 'smtp-server';
import { proxyProtocolFromConfig } from '@mailroom/net';
import type { Config, TlsPair } from '@mailroom/config';
import type { Db } from '@mailroom/db';
import { DataReceiver } from '../core/data-receiver';
import { DeliverySettingsRepository } from '../core/delivery-settings.repository';
import { createGuardedServer } from '../core/guarded-server';
import { MAX_HEADER_BYTES, Spool } from '../core/message-spool';
import type { RecipientCache } from '../core/recipient-cache';
import { RecipientRepository } from '../core/recipient.repository';
import { resolverOptions } from '../core/platform-addresses';
import { RecipientResolver } from '../core/recipient-resolver';
import { HARD_COMMAND_LENGTH, SessionLimits, type SMTPConnection } from '../core/session-limits';
import { srsKey } from '../core/srs-key';
import { MailboxAuthenticator } from './mailbox-authenticator';
import { SendRate } from './send-rate';
import { SenderPolicy } from './sender-policy';
import { SubmissionHooks } from './submission-hooks';
import { SubmissionPipeline, type SubmissionPipelineDeps } from './submission-pipeline';
import { SubmissionRepository } from './submission.repository';
import { submissionReplies } from './submission-replies';

/** Limits that have no setting in libs/config; tests lower them. */
export interface SubmissionTuning {
  maxRecipientsPerMessage: number;
  /** Failed AUTHs answered at once before each further one waits `authDelayStepMs` more. */
  authSlowDownAfter: number;
  authDelayStepMs: number;
  authMaxDelayMs: number;
}

export const DEFAULT_SUBMISSION_TUNING: SubmissionTuning = {
  maxRecipientsPerMessage: 100,
  authSlowDownAfter: 3,
  authDelayStepMs: 1_000,
  authMaxDelayMs: 5_000,
};

export interface SubmissionDeps {
  prisma: Db;
  logger: Logger;
  tls: TlsPair;
  redis: RedisClient;
  onQueued: SubmissionPipelineDeps['onQueued'];
  tuning?: Partial<SubmissionTuning>;
  /** This process's RCPT lookups (recipient-cache.ts), shared with the MX. */
  recipientCache?: RecipientCache | null;
}

/**
 * smtp-server answers AUTH before STARTTLS with a text of its own; ours carries the enhanced code
 * clients show (RFC 3207 §4, the 538 of RFC 4954 §6's "encryption required").
 */
class SubmissionSessionLimits extends SessionLimits {
  override attach(connection: SMTPConnection): void {
    super.attach(connection);
    const send = connection.send.bind(connection);
    connection.send = (code, data, context) =>
      code === 538 ? send(538, submissionReplies.startTlsFirst, false) : send(code, data, context);
  }
}

/** The two submission listeners: SUBMISSION_PORT (STARTTLS required before AUTH) and SUBMISSIONS_PORT (TLS). */
export function createSubmissionServers(
  config: Config,
  deps: SubmissionDeps,
): { submission: SMTPServer; submissions: SMTPServer } {
  const tuning = { ...DEFAULT_SUBMISSION_TUNING, ...deps.tuning };
  const limits = new SubmissionSessionLimits({
    hostname: config.MX_HOSTNAME,
    maxConnectionsPerIp: config.SMTP_MAX_CONNECTIONS_PER_IP,
    maxCommands: config.SMTP_MAX_COMMANDS,
    maxErrors: config.SMTP_MAX_ERRORS,
    sessionTimeoutMs: config.SMTP_SESSION_TIMEOUT_MS,
  });
  const hooks = new SubmissionHooks(buildServices(config, deps, tuning, limits), {
    maxRecipientsPerMessage: tuning.maxRecipientsPerMessage,
  });
  const options: SMTPServerOptions = {
    name: config.MX_HOSTNAME,
    banner: 'Mailroom ESMTP submission',
    key: deps.tls.key,
    cert: deps.tls.cert,
    logger: false,
    disableReverseLookup: true,
    authMethods: ['PLAIN', 'LOGIN'],
    authRequiredMessage: submissionReplies.authRequired,
    hideENHANCEDSTATUSCODES: false,
    // RFC 3461: smtp-server hides DSN unless told; we store RET, ENVID, NOTIFY and ORCPT.
    hideDSN: false,
    size: config.MAX_MESSAGE_BYTES,
    rejectOversized: true,
    maxClients: config.SMTP_MAX_CONNECTIONS,
    socketTimeout: config.SMTP_IDLE_TIMEOUT_MS,
    maxCommandLength: HARD_COMMAND_LENGTH,
    ...hooks.options(),
  };
  return {
    submission: createGuardedServer({ ...options }, limits, proxyProtocolFromConfig(config, deps.logger, 'submission')),
    submissions: createGuardedServer(
      { ...options, secure: true },
      limits,
      proxyProtocolFromConfig(config, deps.logger, 'submissions'),
    ),
  };
}

function buildServices(config: Config, deps: SubmissionDeps, tuning: SubmissionTuning, limits: SessionLimits) {
  const bounceDomain = config.BOUNCE_DOMAIN ?? config.MX_HOSTNAME;
  const counters = new RedisCounters(deps.redis, config.QUEUE_PREFIX, deps.logger);
  const repo = new SubmissionRepository(deps.prisma);
  const senders = new SenderPolicy(repo);
  const rate = new SendRate(counters, {
    mailboxMessagesPerHour: config.SUBMISSION_MAILBOX_MESSAGES_PER_HOUR,
    tenantMessagesPerHour: config.SUBMISSION_TENANT_MESSAGES_PER_HOUR,
  });
  const throttle = new LoginThrottle(
    counters,
    loginThrottleOptions(config, {
      slowDownAfter: tuning.authSlowDownAfter,
      delayStepMs: tuning.authDelayStepMs,
      maxDelayMs: tuning.authMaxDelayMs,
    }),
  );
  const pipeline = new SubmissionPipeline(
    {
      hostname: config.MX_HOSTNAME,
      maxHeaderBytes: MAX_HEADER_BYTES,
      bounceDomain,
      srsKey: srsKey(config.MASTER_KEY),
      junkThreshold: config.SPAM_JUNK_THRESHOLD,
      rejectThreshold: config.SPAM_REJECT_THRESHOLD,
    },
    {
      senders,
      rate,
      settings: new DeliverySettingsRepository(deps.prisma),
      store: new MailStore(deps.prisma, {
        deliveryLifetimeMs: config.DELIVERY_MAX_AGE_HOURS * 3_600_000,
        forwardLifetimeMs: config.FORWARD_DELIVERY_MAX_AGE_HOURS * 3_600_000,
      }),
      onQueued: deps.onQueued,
      logger: deps.logger,
      recipientCache: deps.recipientCache,
    },
  );
  return {
    limits,
    auth: new MailboxAuthenticator(new AccessAuthenticator(deps.prisma, throttle, accessOptions(config, deps.logger))),
    senders,
    rate,
    repo,
    resolver: new RecipientResolver(
      new RecipientRepository(deps.prisma),
      resolverOptions(config),
      deps.recipientCache ?? null,
    ),
    pipeline,
    data: new DataReceiver(
      new Spool(path.resolve(config.DATA_DIR, 'spool')),
      { maxMessageBytes: config.MAX_MESSAGE_BYTES, maxHeaderBytes: MAX_HEADER_BYTES },
      deps.logger,
      'submitted message',
    ),
  };
}
