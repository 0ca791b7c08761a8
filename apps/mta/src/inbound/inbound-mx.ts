import { MailStore } from '@mailroom/mailstore';
import { hkdfSync } from 'node:crypto';
import path from 'node:path';
import type { Logger } from 'pino';
import type { SMTPServer } from 'smtp-server';
import type { Config, TlsPair } from '@mailroom/config';
import type { PrismaClient } from '@mailroom/db';
import { AuthChecker } from './auth-check';
import { DeliverySettingsRepository } from './delivery-settings.repository';
import { createInboundDns, DnsblChecker, type InboundDns } from './dns-lookups';
import { DsnHandler } from './dsn-handler';
import { Greylist } from './greylist';
import { createGuardedServer, InboundHooks } from './inbound-server';
import { InboundPipeline } from './inbound-pipeline';
import { Spool } from './message-spool';
import { RecipientRepository } from './recipient.repository';
import { RecipientResolver } from './recipient-resolver';
import { SessionLimits } from './session-limits';

export interface InboundDeps {
  prisma: PrismaClient;
  logger: Logger;
  tls: TlsPair;
  /** Defaults to a resolver asking DNS_SERVERS. */
  dns?: InboundDns;
  /** Called after commit with the forwards and replies queued, to queue their jobs at once. */
  onQueued?: (deliveries: { tenantId: string; deliveryId: string }[]) => void | Promise<void>;
}

// RFC 5321 §4.5.3.1.4: a command line is at most 512 octets with its CRLF. smtp-server's default
// of 16 KB exists for AUTH blobs, which port 25 does not offer.
const MAX_COMMAND_LENGTH = 510;
// The header block is read in the session (for hops, summary, filters); more than this is abuse.
const MAX_HEADER_BYTES = 256 * 1024;
// RFC 5321 §6.3 leaves the number to us; Postfix and Exim refuse at 50/100, the issue asks for 30.
const MAX_HOPS = 30;
const AUTH_TIMEOUT_MS = 30_000;

/** The SRS secret: derived from MASTER_KEY, so it survives restarts and is the same on every replica. */
export function srsKey(masterKey: Buffer): Buffer {
  return Buffer.from(hkdfSync('sha256', masterKey, Buffer.alloc(0), 'mailroom srs v1', 32));
}

/** The inbound MX (SMTP_PORT): builds the services and the smtp-server that calls them. */
export function createInboundServer(config: Config, deps: InboundDeps): SMTPServer {
  const hostname = config.MX_HOSTNAME;
  const bounceDomain = config.BOUNCE_DOMAIN ?? hostname;
  const dns = deps.dns ?? createInboundDns(config.DNS_SERVERS, config.DNS_TIMEOUT_MS);
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
    },
  );
  const hooks = new InboundHooks(
    {
      limits,
      resolver: new RecipientResolver(new RecipientRepository(deps.prisma), bounceDomain),
      pipeline,
      spool: new Spool(path.resolve(config.DATA_DIR, 'spool')),
      dnsbl: new DnsblChecker(config.DNSBL_ZONES, dns),
      greylist: config.GREYLIST_ENABLED ? new Greylist(deps.prisma, config.GREYLIST_DELAY_SECONDS) : null,
      logger: deps.logger,
    },
    { maxMessageBytes: config.MAX_MESSAGE_BYTES, maxHeaderBytes: MAX_HEADER_BYTES },
  );
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
      size: config.MAX_MESSAGE_BYTES,
      rejectOversized: true,
      maxClients: config.SMTP_MAX_CONNECTIONS,
      maxRecipients: config.SMTP_MAX_RECIPIENTS,
      maxCommandLength: MAX_COMMAND_LENGTH,
      socketTimeout: config.SMTP_IDLE_TIMEOUT_MS,
      ...hooks.options(),
    },
    limits,
  );
}
