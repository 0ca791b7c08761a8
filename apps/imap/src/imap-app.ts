import cluster from 'node:cluster';
import type { RedisClient } from '@mailroom/queue';
import type { Registry } from 'prom-client';
import type { Logger } from 'pino';
import {
  AccessAuthenticator,
  accessOptions,
  LoginThrottle,
  loginThrottleOptions,
  RedisCounters,
  type LoginTuning,
} from '@mailroom/access';
import type { Config, TlsPair } from '@mailroom/config';
import type { Db } from '@mailroom/db';
import { MailStore, configureBlobStore } from '@mailroom/mailstore';
import { proxyProtocolFromConfig } from '@mailroom/net';
import { ClusterConnectionGate } from './imap-cluster';
import { createImapMetrics } from './imap-metrics';
import { startImap, type ImapServerOptions } from './imap-server';
import { imapMime } from './imap/imap-mime-adapter';
import type { SessionOptions } from './imap/imap-session';
import { MailEvents } from './mail-events';
import { startPop3 } from './pop3';
import { createPop3Metrics } from './pop3/pop3-metrics';

export interface ImapAppDeps {
  prisma: Db;
  redis: RedisClient;
  logger: Logger;
  tls: TlsPair;
  registry: Registry;
  /** Limits without a config setting (tests lower them). */
  tuning?: Partial<SessionOptions> & { loginTuning?: Partial<LoginTuning> } & Pick<ImapServerOptions, 'maxLiteral'>;
}

export interface RunningImapApp {
  ports: { imap: number; imaps: number; pop3: number; pop3s: number };
  events: MailEvents;
  close(): Promise<void>;
}

/**
 * The access server in this process: IMAP (STARTTLS and implicit TLS), POP3, and the one
 * LISTEN connection that tells live sessions about new mail and revoked access.
 */
export async function startImapApp(config: Config, deps: ImapAppDeps): Promise<RunningImapApp> {
  const { logger } = deps;
  const counters = new RedisCounters(deps.redis, config.QUEUE_PREFIX, logger);
  const throttle = new LoginThrottle(counters, loginThrottleOptions(config, deps.tuning?.loginTuning));
  const authenticator = new AccessAuthenticator(deps.prisma, throttle, accessOptions(config, logger));
  configureBlobStore(config);
  const store = new MailStore(deps.prisma);
  const events = new MailEvents(config.DATABASE_URL, logger);
  await events.start();
  const imap = await startImap(
    {
      ...deps.tuning,
      host: config.IMAP_HOST,
      port: config.IMAP_PORT,
      tlsPort: config.IMAPS_PORT,
      appendLimit: deps.tuning?.appendLimit ?? config.MAX_MESSAGE_BYTES,
      maxConnectionsPerIp: config.IMAP_MAX_CONNECTIONS_PER_IP,
      connectionGate: cluster.isWorker
        ? new ClusterConnectionGate('imap', config.IMAP_MAX_CONNECTIONS_PER_IP)
        : undefined,
      proxy: proxyProtocolFromConfig(config, logger, 'imap'),
    },
    {
      store,
      authenticator,
      mime: imapMime,
      logger,
      metrics: createImapMetrics(deps.registry),
      registry: events,
      tls: deps.tls,
    },
  );
  // POP3 (apps/imap/src/pop3): the single place it starts.
  const pop3 = await startPop3({
    config,
    logger,
    tls: deps.tls,
    authenticator,
    store,
    events,
    redis: deps.redis,
    metrics: createPop3Metrics(deps.registry),
    connectionGate: cluster.isWorker
      ? new ClusterConnectionGate('pop3', config.POP3_MAX_CONNECTIONS_PER_IP)
      : undefined,
    proxy: proxyProtocolFromConfig(config, logger, 'pop3'),
  });
  return {
    ports: { ...imap.ports, ...pop3.ports },
    events,
    close: async () => {
      await imap.close();
      await pop3.close();
      await events.close();
    },
  };
}
