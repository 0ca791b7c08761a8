import { MailStore } from '@mailroom/mailstore';
import { proxyProtocolFromConfig } from '@mailroom/net';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SMTPServer } from 'smtp-server';
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
import { HARD_COMMAND_LENGTH, SessionLimits } from '../core/session-limits';
import { srsKey } from '../core/srs-key';
import { WorkLimit } from '../core/work-limit';
import { AuthChecker } from './auth-check';
import { createInboundDns, DnsblChecker, type InboundDns } from './dns-lookups';
import { DsnHandler } from './dsn-handler';
import { GreylistRepository } from './greylist.repository';
import { Greylist } from './greylist';
import { InboundHooks } from './inbound-hooks';
import { InboundPipeline } from './inbound-pipeline';

export interface InboundDeps {
  prisma: Db;
  logger: Logger;
  tls: TlsPair;
  /** Defaults to a resolver asking DNS_SERVERS. */
  dns?: InboundDns;
  /** Called after commit with the forwards and replies queued, to queue their jobs at once. */
  onQueued?: (deliveries: { tenantId: string; deliveryId: string }[]) => void | Promise<void>;
  /** This process's RCPT lookups (recipient-cache.ts); none: every RCPT reads the database. */
  recipientCache?: RecipientCache | null;
}

// RFC 5321 §6.3 leaves the number to us; Postfix and Exim refuse at 50/100, the issue asks for 30.
const MAX_HOPS = 30;
const AUTH_TIMEOUT_MS = 30_000;

/** The inbound MX (SMTP_PORT): builds the services and the smtp-server that calls them. */
export function createInboundServer(config: Config, deps: InboundDeps): SMTPServer {
  const hostname = config.MX_HOSTNAME;
  const bounceDomain = config.BOUNCE_DOMAIN ?? hostname;
  const dns = deps.dns ?? createInboundDns(config.DNS_SERVERS, config.DNS_TIMEOUT_MS, config.DNS_CACHE_TTL_SECONDS);
  const limits = new SessionLimits({
    hostname,
    maxConnectionsPerIp: config.SMTP_MAX_CONNECTIONS_PER_IP,
    maxCommands: config.SMTP_MAX_COMMANDS,
    maxErrors: config.SMTP_MAX_ERRORS,
    sessionTimeoutMs: config.SMTP_SESSION_TIMEOUT_MS,
  });
  const pipeline = new InboundPipeline(
    {
      hostname,
      maxHeaderBytes: MAX_HEADER_BYTES,
      maxHops: MAX_HOPS,
      junkThreshold: config.SPAM_JUNK_THRESHOLD,
      rejectThreshold: config.SPAM_REJECT_THRESHOLD,
      bounceDomain,
      srsKey: srsKey(config.MASTER_KEY),
    },
    {
      auth: new AuthChecker(hostname, dns.resolve, AUTH_TIMEOUT_MS),
      settings: new DeliverySettingsRepository(deps.prisma),
      store: new MailStore(deps.prisma, {
        deliveryLifetimeMs: config.DELIVERY_MAX_AGE_HOURS * 3_600_000,
        forwardLifetimeMs: config.FORWARD_DELIVERY_MAX_AGE_HOURS * 3_600_000,
      }),
      dsn: new DsnHandler(deps.prisma, deps.logger),
      logger: deps.logger,
      onQueued: deps.onQueued,
      recipientCache: deps.recipientCache,
    },
  );
  const spool = new Spool(path.resolve(config.DATA_DIR, 'spool'));
  const hooks = new InboundHooks({
    limits,
    resolver: new RecipientResolver(
      new RecipientRepository(deps.prisma),
      resolverOptions(config),
      deps.recipientCache ?? null,
    ),
    pipeline,
    data: new DataReceiver(
      spool,
      { maxMessageBytes: config.MAX_MESSAGE_BYTES, maxHeaderBytes: MAX_HEADER_BYTES },
      deps.logger,
      'inbound message',
    ),
    dnsbl: new DnsblChecker(config.DNSBL_ZONES, dns),
    // Twice the pool: one message committing per connection, one checking its authentication.
    work: new WorkLimit(config.DATABASE_POOL_SIZE),
    greylist: config.GREYLIST_ENABLED
      ? new Greylist(new GreylistRepository(deps.prisma), config.GREYLIST_DELAY_SECONDS)
      : null,
  });
  return createGuardedServer(
    {
      name: hostname,
      banner: 'Mailroom ESMTP',
      key: deps.tls.key,
      cert: deps.tls.cert,
      logger: false,
      disableReverseLookup: true,
      // Port 25 never relays and never authenticates: AUTH is not offered at all.
      authOptional: true,
      disabledCommands: ['AUTH'],
      hideENHANCEDSTATUSCODES: false,
      // RFC 3461: smtp-server hides DSN unless told; we store RET, ENVID, NOTIFY and ORCPT.
      hideDSN: false,
      size: config.MAX_MESSAGE_BYTES,
      rejectOversized: true,
      maxClients: config.SMTP_MAX_CONNECTIONS,
      maxRecipients: config.SMTP_MAX_RECIPIENTS,
      maxCommandLength: HARD_COMMAND_LENGTH,
      socketTimeout: config.SMTP_IDLE_TIMEOUT_MS,
      ...hooks.options(),
    },
    limits,
    proxyProtocolFromConfig(config, deps.logger, 'smtp'),
  );
}
