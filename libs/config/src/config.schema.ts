import os from 'node:os';
import { validateCidr } from '@mailroom/rules';
import { z } from 'zod';

const port = (fallback: number) => z.coerce.number().int().min(0).max(65535).default(fallback);

const postgresUrl = z
  .string({ error: 'required: a postgresql:// URL' })
  .refine((v) => /^postgres(ql)?:\/\/\S+$/.test(v), 'must be a postgresql:// URL');

const redisUrl = z
  .string({ error: 'required: a redis:// URL' })
  .refine((v) => /^rediss?:\/\/\S+$/.test(v), 'must be a redis:// or rediss:// URL');

/**
 * Streaming replicas of DATABASE_URL's primary, comma-separated postgresql:// URLs: reads that
 * may be a little stale go there (libs/db ReplicaRouter). Empty or unset: every query on the primary.
 */
const postgresUrlList = z
  .string()
  .optional()
  .transform((value, ctx) => {
    const urls = (value ?? '')
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    for (const url of urls) {
      if (!/^postgres(ql)?:\/\/\S+$/.test(url)) {
        ctx.addIssue({ code: 'custom', message: `"${url}" is not a postgresql:// URL` });
        return z.NEVER;
      }
    }
    return urls;
  });

/** A Redis Cluster seed node: `host:port`, `[::1]:port`. */
export interface RedisNode {
  host: string;
  port: number;
}

/**
 * Seed nodes of a Redis Cluster, comma-separated; ioredis learns the other nodes (and each slot's
 * master) from them, so one reachable node is enough to start, and listing all is safer.
 */
const redisClusterNodes = z
  .string()
  .optional()
  .transform((value, ctx) => {
    if (value === undefined) return undefined;
    const nodes: RedisNode[] = [];
    for (const entry of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const m = /^(\[[0-9a-f:.]+\]|[a-z0-9.-]+):(\d{1,5})$/i.exec(entry);
      const port = Number(m?.[2]);
      if (!m || port < 1 || port > 65535) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not host:port (a Redis Cluster node)` });
        return z.NEVER;
      }
      nodes.push({ host: m[1]!.replace(/^\[|\]$/g, ''), port });
    }
    if (nodes.length === 0) {
      ctx.addIssue({ code: 'custom', message: 'must list host:port of at least one Redis Cluster node' });
      return z.NEVER;
    }
    return nodes;
  });

/** A resolver address: `1.2.3.4`, `1.2.3.4:5353`, `::1`, `[::1]:5353`. */
export interface DnsServer {
  host: string;
  port: number;
}

export function parseDnsServer(entry: string): DnsServer | null {
  const bracketed = /^\[([0-9a-f:.]+)\](?::(\d+))?$/i.exec(entry);
  if (bracketed?.[1]) {
    return { host: bracketed[1], port: bracketed[2] ? Number(bracketed[2]) : 53 };
  }
  if (/^[0-9a-f:]+$/i.test(entry) && entry.includes('::')) {
    return { host: entry, port: 53 };
  }
  const v4 = /^(\d{1,3}(?:\.\d{1,3}){3})(?::(\d+))?$/.exec(entry);
  if (v4?.[1]) {
    const octetsOk = v4[1].split('.').every((o) => Number(o) <= 255);
    const p = v4[2] ? Number(v4[2]) : 53;
    return octetsOk && p > 0 && p < 65536 ? { host: v4[1], port: p } : null;
  }
  return null;
}

const dnsServers = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const entries = value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean);
    const servers: DnsServer[] = [];
    for (const entry of entries) {
      const server = parseDnsServer(entry);
      if (!server) {
        ctx.addIssue({ code: 'custom', message: `"${entry}" is not an IP address with an optional :port` });
        return z.NEVER;
      }
      servers.push(server);
    }
    return servers;
  });

/** 32 bytes as 64 hex digits or base64: the key that encrypts DKIM private keys and secrets. */
const masterKey = z
  .string({ error: 'required: 32 random bytes as 64 hex digits or base64' })
  .transform((value, ctx) => {
    const bytes = /^[0-9a-f]{64}$/i.test(value) ? Buffer.from(value, 'hex') : Buffer.from(value, 'base64');
    if (bytes.length !== 32) {
      ctx.addIssue({
        code: 'custom',
        message: `must be 32 bytes as 64 hex digits or base64 (got ${bytes.length} bytes); make one with: openssl rand -hex 32`,
      });
      return z.NEVER;
    }
    return bytes;
  });

const hostname = z
  .string({ error: 'required: a host name such as mx.example.net' })
  .regex(
    /^(?=.{1,253}$)([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/i,
    'must be a fully qualified host name such as mx.example.net',
  )
  .transform((v) => v.toLowerCase());

const bool = z
  .enum(['true', 'false', '1', '0', 'yes', 'no'])
  .transform((v) => v === 'true' || v === '1' || v === 'yes');

/** A comma-separated list of CIDRs (a bare address is one host), normalized. */
const cidrList = z
  .string()
  .default('')
  .transform((value, ctx) => {
    const cidrs: string[] = [];
    for (const entry of value
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      const checked = validateCidr(entry);
      if (!checked.ok) {
        ctx.addIssue({ code: 'custom', message: `"${entry}": ${checked.error}` });
        return z.NEVER;
      }
      cidrs.push(checked.cidr);
    }
    return cidrs;
  });

/**
 * Express's 'trust proxy': true/false as before (true trusts every hop, so any client can set
 * its own X-Forwarded-For when it reaches the API directly), or, safer, the proxies' addresses
 * and CIDRs (or express's names loopback, linklocal, uniquelocal), comma-separated.
 */
const trustProxy = z
  .string()
  .default('false')
  .transform((value, ctx): boolean | string[] => {
    const v = value.trim().toLowerCase();
    if (['true', '1', 'yes'].includes(v)) return true;
    if (['false', '0', 'no', ''].includes(v)) return false;
    const entries: string[] = [];
    for (const entry of v
      .split(',')
      .map((s) => s.trim())
      .filter(Boolean)) {
      if (['loopback', 'linklocal', 'uniquelocal'].includes(entry)) {
        entries.push(entry);
        continue;
      }
      const checked = validateCidr(entry);
      if (!checked.ok) {
        ctx.addIssue({
          code: 'custom',
          message: `"${entry}": ${checked.error} (or true, false, loopback, linklocal, uniquelocal)`,
        });
        return z.NEVER;
      }
      entries.push(checked.cidr);
    }
    return entries;
  });

/** Every setting of the three apps. Nothing else reads process.env. */
export const configSchema = z.object({
  NODE_ENV: z.enum(['development', 'test', 'production']).default('development'),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),

  DATABASE_URL: postgresUrl,
  DATABASE_POOL_SIZE: z.coerce.number().int().min(1).max(200).default(10),
  DATABASE_REPLICA_URLS: postgresUrlList,
  // A replica further behind than this (replay lag) is skipped until it catches up.
  DATABASE_REPLICA_MAX_LAG_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  // After a tenant's write through this process, its reads stay on the primary this long.
  DATABASE_REPLICA_STICKY_MS: z.coerce.number().int().min(0).max(3_600_000).default(5_000),
  // Required unless REDIS_CLUSTER_NODES is set (checked in loadConfig); the cluster wins.
  REDIS_URL: redisUrl.optional(),
  REDIS_CLUSTER_NODES: redisClusterNodes,
  QUEUE_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9:{}_-]+$/)
    .default('mailroom'),

  API_HOST: z.string().default('0.0.0.0'),
  API_PORT: port(3000),
  PUBLIC_API_URL: z.url().optional(),
  // Passkeys (WebAuthn): the relying party id (a registrable domain, never an IP address) and the
  // origins the browser may sign for; by default derived from PUBLIC_API_URL (webauthn.ts).
  WEBAUTHN_RP_ID: z
    .string()
    .regex(/^(localhost|([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63})$/i, 'must be a domain such as example.net')
    .optional(),
  WEBAUTHN_ORIGIN: z
    .string()
    .optional()
    .transform((v, ctx) => {
      if (v === undefined || v.trim() === '') return undefined;
      const origins = v
        .split(',')
        .map((o) => o.trim())
        .filter(Boolean);
      for (const o of origins) {
        if (!URL.canParse(o) || new URL(o).origin !== o) {
          ctx.addIssue({
            code: 'custom',
            message: 'must be origins such as https://mail.example.net, comma-separated',
          });
          return z.NEVER;
        }
      }
      return origins;
    }),

  SMTP_HOST: z.string().default('0.0.0.0'),
  SMTP_PORT: port(2525),
  SUBMISSION_PORT: port(2587),
  SUBMISSIONS_PORT: port(2465),
  MTA_HEALTH_PORT: port(9101),
  WORKER_HEALTH_PORT: port(9102),
  // apps/imap: IMAP (143 with STARTTLS, 993 TLS) and POP3 (110 with STLS, 995 TLS); high ports in development
  IMAP_HOST: z.string().default('0.0.0.0'),
  IMAP_PORT: port(1143),
  IMAPS_PORT: port(1993),
  POP3_PORT: port(1110),
  POP3S_PORT: port(1995),
  IMAP_HEALTH_PORT: port(9103),
  // IMAP/POP3 worker processes (Node's cluster, like Dovecot's process per session): 1 runs all
  // sessions in one process; 'auto' one per CPU core. Sessions spread over the workers; the
  // per-IP limits count across all of them.
  IMAP_WORKERS: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(64)])
    .default(1)
    .transform((v) => (v === 'auto' ? Math.max(1, os.availableParallelism()) : v)),
  // Open connections one client IP may hold (Dovecot: mail_max_userip_connections), counted at
  // accept; generous because an office behind one NAT address shares it
  IMAP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).max(100_000).default(50),
  POP3_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).max(100_000).default(20),
  // PROXY protocol v1/v2 (HAProxy send-proxy, send-proxy-v2) on the MTA's and apps/imap's
  // listeners: connections from these CIDRs must start with a header naming the client, others
  // are served directly and never trusted with one (Dovecot's haproxy_trusted_networks). Empty: off.
  PROXY_PROTOCOL_TRUSTED_NETWORKS: cidrList,
  PROXY_PROTOCOL_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  HEALTH_HOST: z.string().default('127.0.0.1'),

  MX_HOSTNAME: hostname,
  DNS_SERVERS: dnsServers,
  SMTP_DELIVERY_PORT: port(25),

  MASTER_KEY: masterKey,
  TLS_CERT_PATH: z.string().optional(),
  TLS_KEY_PATH: z.string().optional(),
  DATA_DIR: z.string().default('.mailroom'),

  // API security and conventions
  ACCESS_TOKEN_TTL_SECONDS: z.coerce.number().int().min(60).max(86_400).default(900),
  REFRESH_TOKEN_TTL_DAYS: z.coerce.number().int().min(1).max(365).default(30),
  API_RATE_LIMIT_PER_MINUTE: z.coerce.number().int().min(1).default(600),
  LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(100).default(5),
  LOGIN_LOCK_MINUTES: z.coerce.number().int().min(1).max(1440).default(15),
  LOGIN_MAX_FAILURES_PER_IP: z.coerce.number().int().min(1).default(50),
  // IMAP/POP3/submission auth cache (Dovecot's auth_cache_size/ttl): successful logins kept in
  // memory by a keyed hash, so a client reconnecting every minute does not pay argon2 each time
  AUTH_CACHE_SIZE: z.coerce.number().int().min(0).max(10_000_000).default(10_000),
  AUTH_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(86_400).default(300),
  // The API's cache of what its guard reads per request (CredentialCache): emptied by every
  // change (LISTEN/NOTIFY); the TTL is only a backstop. 0 entries turns it off.
  API_CREDENTIAL_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  API_CREDENTIAL_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(60),
  // The MTA's cache of RCPT lookups (domain, tenant, mailboxes and aliases): a tenant's entries
  // are dropped by every change to them (LISTEN/NOTIFY); the TTL bounds how late usage stored by
  // other processes is seen. 0 entries turns it off.
  RECIPIENT_CACHE_SIZE: z.coerce.number().int().min(0).max(1_000_000).default(10_000),
  RECIPIENT_CACHE_TTL_SECONDS: z.coerce.number().int().min(1).max(3_600).default(30),
  IDEMPOTENCY_TTL_HOURS: z.coerce.number().int().min(1).max(720).default(24),
  TENANT_DELETE_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(30),
  TRUST_PROXY: trustProxy,

  // DNS onboarding: what tenants publish, and how often the worker checks it
  PLATFORM_DOMAINS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
    ),
  SPF_INCLUDE: hostname.optional(),
  DMARC_POLICY: z.enum(['none', 'quarantine', 'reject']).default('quarantine'),
  DMARC_RUA: z.email().optional(),
  TLSRPT_RUA: z.email().optional(),
  CLIENT_IMAP_HOSTNAME: hostname.optional(),
  CLIENT_POP3_HOSTNAME: hostname.optional(),
  CLIENT_SUBMISSION_HOSTNAME: hostname.optional(),
  // The ports mail clients are told (SRV records, autoconfig, autodiscover, client settings):
  // the standard ones, or the listening ports when clients connect to this machine directly.
  CLIENT_IMAPS_PORT: port(993),
  CLIENT_POP3S_PORT: port(995),
  CLIENT_SUBMISSION_PORT: port(587),
  CLIENT_SUBMISSIONS_PORT: port(465),
  AUTOCONFIG_HOSTNAME: hostname.optional(),
  SENDING_IPS: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((d) => d.trim())
        .filter(Boolean),
    ),
  DNS_TIMEOUT_MS: z.coerce.number().int().min(100).max(60_000).default(5_000),
  // Seconds the MTA and the delivery worker keep a DNS answer (SPF/DKIM/DMARC, MX, MTA-STS,
  // addresses); 0 asks DNS every time. Domain onboarding checks never use it.
  DNS_CACHE_TTL_SECONDS: z.coerce.number().int().min(0).max(3_600).default(60),
  DNS_CHECK_INTERVAL_MINUTES: z.coerce.number().int().min(1).max(10_080).default(360),
  DKIM_ROTATION_GRACE_DAYS: z.coerce.number().int().min(0).max(365).default(7),

  // Inbound SMTP limits and filtering
  MAX_MESSAGE_BYTES: z.coerce.number().int().min(1024).default(52_428_800),
  SMTP_MAX_RECIPIENTS: z.coerce.number().int().min(100).max(10_000).default(100),
  SMTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1_000),
  SMTP_MAX_CONNECTIONS_PER_IP: z.coerce.number().int().min(1).default(20),
  SMTP_IDLE_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(60_000),
  SMTP_SESSION_TIMEOUT_MS: z.coerce.number().int().min(1_000).default(600_000),
  SMTP_MAX_ERRORS: z.coerce.number().int().min(1).default(10),
  SMTP_MAX_COMMANDS: z.coerce.number().int().min(10).default(1_000),
  DNSBL_ZONES: z
    .string()
    .default('')
    .transform((v) =>
      v
        .split(',')
        .map((d) => d.trim().toLowerCase())
        .filter(Boolean),
    ),
  GREYLIST_ENABLED: bool.default(false),
  GREYLIST_DELAY_SECONDS: z.coerce.number().int().min(0).default(300),
  SPAM_JUNK_THRESHOLD: z.coerce.number().default(5),
  SPAM_REJECT_THRESHOLD: z.coerce.number().default(15),
  /** Envelope domain for SRS-rewritten forwards and VERP bounce addresses; default MX_HOSTNAME. */
  BOUNCE_DOMAIN: hostname.optional(),
  /**
   * Where `RCPT TO:<postmaster>` (no domain, RFC 5321 §4.5.1) is delivered: a hosted address.
   * Default postmaster@ the parent domain of MX_HOSTNAME (Postfix's $mydomain).
   */
  POSTMASTER_ADDRESS: z.email().optional(),

  // Submission (587/465) sending limits, in fixed one-hour windows
  SUBMISSION_MAILBOX_MESSAGES_PER_HOUR: z.coerce.number().int().min(1).default(200),
  SUBMISSION_TENANT_MESSAGES_PER_HOUR: z.coerce.number().int().min(1).default(2_000),

  // Outbound delivery
  DELIVERY_RETRY_SCHEDULE: z
    .string()
    .default('5m,15m,30m,1h,2h,4h')
    .transform((value, ctx) => {
      const units: Record<string, number> = { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 };
      const steps = value.split(',').map((part) => {
        const m = /^\s*(\d+)\s*([smhd])\s*$/.exec(part);
        return m ? Number(m[1]) * units[m[2]!]! : NaN;
      });
      if (steps.length === 0 || steps.some((n) => !Number.isFinite(n) || n <= 0)) {
        ctx.addIssue({
          code: 'custom',
          message: 'must be durations like 5m,15m,1h (s, m, h, d); the last one repeats',
        });
        return z.NEVER;
      }
      return steps;
    }),
  DELIVERY_MAX_AGE_HOURS: z.coerce.number().min(0.01).max(720).default(120),
  /** How long a forward is retried before it bounces (to the original sender, SRS reversed). */
  FORWARD_DELIVERY_MAX_AGE_HOURS: z.coerce.number().min(0.01).max(720).default(120),
  DELIVERY_CONNECT_TIMEOUT_MS: z.coerce.number().int().min(100).default(30_000),
  DELIVERY_SOCKET_TIMEOUT_MS: z.coerce.number().int().min(100).default(300_000),
  DELIVERY_SESSION_TIMEOUT_MS: z.coerce.number().int().min(100).default(600_000),
  DELIVERY_CONCURRENCY_PER_DOMAIN: z.coerce.number().int().min(1).default(5),
  // Idle SMTP sessions kept for the next message to the same host (0 turns reuse off), and how
  // many messages one session carries before it is closed.
  DELIVERY_CONNECTION_CACHE_MS: z.coerce.number().int().min(0).max(300_000).default(2_000),
  DELIVERY_CONNECTION_REUSE_LIMIT: z.coerce.number().int().min(1).default(100),

  /** How often the sweeps (due deliveries, webhook events, DNS re-checks) run. */
  SWEEP_INTERVAL_MS: z.coerce.number().int().min(1_000).default(60_000),
  /** How often the worker re-creates its job schedulers (they vanish if Redis is flushed). */
  SCHEDULER_REFRESH_MS: z.coerce.number().int().min(1_000).default(60_000),

  // History kept by maintenance.cleanup-history, and the age below which blob GC leaves a blob.
  DELIVERY_EVENT_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  WEBHOOK_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(30),
  JOB_RUN_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  /** IMAP expunge log (QRESYNC VANISHED); a client away longer resyncs its folder in full. */
  EXPUNGE_LOG_RETENTION_DAYS: z.coerce.number().int().min(1).max(3650).default(90),
  BLOB_GC_GRACE_MINUTES: z.coerce.number().int().min(1).max(10_080).default(60),

  // Where new message bodies go (docs/scaling.md section 5): 'db' keeps them in PostgreSQL
  // (message_blobs.bytes); 's3' puts those of at least BLOB_S3_MIN_BYTES in an S3-compatible
  // bucket, written before the transaction that refers to them commits. Bodies already in S3
  // are read whenever S3_BUCKET is set, whatever BLOB_STORE says.
  BLOB_STORE: z.enum(['db', 's3']).default('db'),
  BLOB_S3_MIN_BYTES: z.coerce.number().int().min(0).max(1_073_741_824).default(65_536),
  S3_ENDPOINT: z.url().optional(),
  S3_REGION: z.string().default('us-east-1'),
  S3_BUCKET: z
    .string()
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'must be an S3 bucket name (3-63 of a-z, 0-9, ".", "-")')
    .optional(),
  S3_ACCESS_KEY_ID: z.string().optional(),
  S3_SECRET_ACCESS_KEY: z.string().optional(),
  // Path-style URLs (endpoint/bucket/key), which MinIO and most self-hosted stores need.
  S3_FORCE_PATH_STYLE: bool.default(false),
  // The worker's orphan sweep (storage.blob-orphan-sweep, and the default of `blobs:sweep
  // --older-than-hours`): how often it lists the bucket, and the age below which an object no row
  // refers to is left alone. At least an hour: a margin over the longest writer's transaction
  // (the claim in sweepOrphanObjects is what keeps a committing writer's object; the age is a
  // second wall, as BLOB_GC_GRACE_MINUTES is for blob GC).
  BLOB_SWEEP_INTERVAL_HOURS: z.coerce.number().min(1).max(720).default(24),
  BLOB_SWEEP_MIN_AGE_HOURS: z.coerce.number().min(1).max(8760).default(24),

  // Jobs each worker process runs at once, per queue.
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(500).default(10),
  // BullMQ's job lock (renewed by a timer while the job runs, however long it takes) and its
  // stalled-job check. A job whose worker vanished (killed, or its fetch's answer lost in a
  // Redis failover) goes back to the queue within about twice this. A live worker loses a job
  // only if its event loop or Redis stalls for about half of this; the job then runs twice,
  // which deliveries survive (claimed by compare-and-set in PostgreSQL) and webhooks are
  // allowed to do (at least once, the receiver dedupes by event id).
  WORKER_LOCK_MS: z.coerce.number().int().min(5_000).max(600_000).default(30_000),
  // Worker processes (Node's cluster, like Postfix's many delivery processes): 1 runs every job
  // in one process; 'auto' one per CPU core. Each takes jobs from the same queues with its own
  // WORKER_CONCURRENCY and DELIVERY_CONCURRENCY_PER_DOMAIN, as replicas on other machines do.
  WORKER_PROCESSES: z
    .union([z.literal('auto'), z.coerce.number().int().min(1).max(64)])
    .default(1)
    .transform((v) => (v === 'auto' ? Math.max(1, os.availableParallelism()) : v)),
  SCHEDULES_ENABLED: bool.default(true),
});

export type ConfigInput = z.input<typeof configSchema>;
export type Config = z.output<typeof configSchema>;
