import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { Registry } from 'prom-client';
import {
  AccessAuthenticator,
  LoginThrottle,
  RedisCounters,
  accessOptions,
  loginThrottleOptions,
} from '@mailroom/access';
import { loadConfig, loadTls, type Config } from '@mailroom/config';
import { createPrismaClient, type PrismaClient } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import { MailStore } from '@mailroom/mailstore';
import { createRedis, type RedisClient } from '@mailroom/queue';
import { MailEvents } from '@mailroom/imap/mail-events';
import { startPop3, type Pop3Authenticator, type Pop3Tuning, type RunningPop3 } from '@mailroom/imap/pop3';
import { createPop3Metrics } from '@mailroom/imap/pop3/pop3-metrics';
import { createHarness, mtaEnv, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';

export interface Pop3User {
  tenantId: string;
  domainId: string;
  mailboxId: string;
  address: string;
  password: string;
  inboxId: string;
}

export interface Pop3Harness {
  h: Harness;
  prisma: PrismaClient;
  pop3: RunningPop3;
  mx: RunningInbound;
  config: Config;
  /** The first server's metrics (mailroom_pop3_*). */
  registry: Registry;
  domain: { tenantId: string; domainId: string; name: string };
  /**
   * Another POP3 server on the same database (tuning lowered, or a second process's view);
   * `wrap` may put a step around the real authenticator (a revocation racing a login).
   */
  startPop3(
    tuning?: Partial<Pop3Tuning>,
    wrap?: (real: AccessAuthenticator) => Pop3Authenticator,
  ): Promise<RunningPop3>;
  /** Redis as the POP3 servers use it (the maildrop locks). */
  redis: RedisClient;
  /** A mailbox with this password and POP3 settings (columns of the access branch). */
  user(
    localPart: string,
    settings?: { pop3Folders?: string[]; pop3MarkRead?: boolean; pop3DeleteMode?: string; pop3Enabled?: boolean },
  ): Promise<Pop3User>;
  /** A message through the MTA on port 25 into `to`'s Inbox; returns the stored row. */
  deliver(to: string, raw: string | Buffer): Promise<{ id: string; uid: number; folderId: string; blob: Buffer }>;
  close(): Promise<void>;
}

export const PASSWORD = 'correct horse battery staple';

/** One test database, an inbound MTA and a POP3 server in this process, with the real AccessAuthenticator and events. */
export async function createPop3Harness(
  tuning: Partial<Pop3Tuning> = {},
  env: Record<string, string> = {},
): Promise<Pop3Harness> {
  const h = await createHarness();
  const mx = await h.start();
  const acme = await h.seed.hosted('acme.test', []);
  const prefix = `mrtest_${process.env.MAILROOM_TEST_RUN ?? 'x'}_${randomBytes(4).toString('hex')}`;
  const config = loadConfig({
    ...mtaEnv(h.db, h.dns),
    QUEUE_PREFIX: prefix,
    IMAP_HOST: '127.0.0.1',
    POP3_PORT: '0',
    POP3S_PORT: '0',
    LOGIN_MAX_FAILURES: '5',
    ...env,
  });
  const prisma = createPrismaClient({ url: config.DATABASE_URL, poolSize: 4, applicationName: 'pop3-test' });
  const redis: RedisClient = createRedis(config, 'client');
  const logger = createLogger('imap', config);
  const events = new MailEvents(config.DATABASE_URL, logger);
  await events.start();
  const counters = new RedisCounters(redis, config.QUEUE_PREFIX, logger);
  const throttle = new LoginThrottle(counters, loginThrottleOptions(config, { delayStepMs: 10, maxDelayMs: 50 }));
  const authenticator = new AccessAuthenticator(prisma, throttle, accessOptions(config, logger));
  const store = new MailStore(prisma);
  const tlsPair = await loadTls(config);
  const servers: RunningPop3[] = [];
  const registry = new Registry();
  const start = async (
    t: Partial<Pop3Tuning> = {},
    wrap?: (real: AccessAuthenticator) => Pop3Authenticator,
    reg = new Registry(),
  ) => {
    const running = await startPop3({
      config,
      logger,
      tls: tlsPair,
      authenticator: wrap ? wrap(authenticator) : authenticator,
      store,
      events,
      redis,
      metrics: createPop3Metrics(reg),
      tuning: { ...tuning, ...t },
    });
    servers.push(running);
    return running;
  };
  const pop3 = await start({}, undefined, registry);
  return {
    h,
    prisma,
    pop3,
    mx,
    config,
    registry,
    domain: { tenantId: acme.tenant.id, domainId: acme.domain.id, name: 'acme.test' },
    startPop3: (t, wrap) => start(t, wrap),
    redis,
    async user(localPart, settings = {}) {
      const mailbox = await h.seed.mailbox(acme.tenant.id, acme.domain.id, localPart);
      await h.prisma.mailbox.update({
        where: { tenantId_id: { tenantId: acme.tenant.id, id: mailbox.id } },
        data: { passwordHash: await argon2.hash(PASSWORD, { type: argon2.argon2id }), ...settings },
      });
      const inbox = await h.prisma.folder.findFirstOrThrow({ where: { mailboxId: mailbox.id, kind: 'inbox' } });
      return {
        tenantId: acme.tenant.id,
        domainId: acme.domain.id,
        mailboxId: mailbox.id,
        address: `${localPart}@acme.test`,
        password: PASSWORD,
        inboxId: inbox.id,
      };
    },
    async deliver(to, raw) {
      const client = await RawSmtp.connect(mx.port);
      await client.command('EHLO client.test');
      // SMTP DATA is dot-stuffed on the wire (RFC 5321 section 4.5.2); the MTA stores it unstuffed.
      const stuffed = Buffer.from(Buffer.from(raw).toString('latin1').replace(/^\./gm, '..'), 'latin1');
      const replies = await transaction(client, 'sender@example.net', [to], stuffed);
      client.close();
      const last = replies.at(-1)!;
      if (last.code !== 250) throw new Error(`delivery refused: ${last.text}`);
      const row = await h.prisma.message.findFirstOrThrow({
        where: { mailbox: { localPart: to.split('@')[0]! } },
        orderBy: { receivedAt: 'desc' },
      });
      const blob = await h.prisma.messageBlob.findFirstOrThrow({
        where: { tenantId: row.tenantId, sha256: row.blobSha256 },
      });
      return { id: row.id, uid: row.uid, folderId: row.folderId, blob: Buffer.from(blob.bytes!) };
    },
    async close() {
      await Promise.all(servers.map((s) => s.close()));
      await events.close();
      redis.disconnect();
      await prisma.$disconnect();
      await h.close();
    },
  };
}
