import argon2 from 'argon2';
import { connectRedis } from '@test/support/redis-cluster';
import { ImapFlow } from 'imapflow';
import { Registry } from 'prom-client';
import { loadConfig, loadTls } from '@mailroom/config';
import { createPrismaClient, type PrismaClient } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import { startImapApp, type ImapAppDeps, type RunningImapApp } from '@mailroom/imap/imap-app';
import { createHarness, mtaEnv, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';

export const PASSWORD = 'correct horse battery staple';

export interface ImapHarness {
  h: Harness;
  mx: RunningInbound;
  imap: RunningImapApp;
  registry: Registry;
  /** The self-signed certificate the IMAP listeners present (PEM). */
  cert: Buffer;
  tenantId: string;
  domainId: string;
  /** A mailbox with INBOX, Sent, Drafts, Trash, Junk and Archive and the password PASSWORD. */
  user(localPart: string, data?: { imapEnabled?: boolean }): Promise<{ id: string; address: string }>;
  /** An imapflow client logged in over implicit TLS. */
  client(address: string, password?: string, app?: RunningImapApp): Promise<ImapFlow>;
  /** A message through the MTA's port 25, as the world sends it. */
  deliver(to: string, message: string | Buffer): Promise<void>;
  /** Starts another IMAP process-equivalent (its own LISTEN connection) on the same database. */
  startImap(tuning?: ImapAppDeps['tuning']): Promise<RunningImapApp>;
  close(): Promise<void>;
}

/**
 * The MTA and the IMAP/POP3 app in this process, on one test database: mail goes in on port
 * 25 and comes out over IMAP, as a user sees it.
 */
export async function createImapHarness(
  tuning: ImapAppDeps['tuning'] = {},
  env: Record<string, string> = {},
): Promise<ImapHarness> {
  const h = await createHarness();
  const acme = await h.seed.hosted('acme.test', []);
  const mx = await h.start(env);
  const clients: PrismaClient[] = [];
  const apps: RunningImapApp[] = [];
  const redis = connectRedis();
  const registry = new Registry();
  const config = loadConfig({
    ...mtaEnv(h.db, h.dns),
    IMAP_HOST: '127.0.0.1',
    IMAP_PORT: '0',
    IMAPS_PORT: '0',
    POP3_PORT: '0',
    POP3S_PORT: '0',
    ...env,
  });
  const tls = await loadTls(config);
  const startImap = async (t: ImapAppDeps['tuning'] = tuning, reg = new Registry()) => {
    const prisma = createPrismaClient({ url: config.DATABASE_URL, poolSize: 4, applicationName: 'imap-test' });
    clients.push(prisma);
    const app = await startImapApp(config, {
      prisma,
      redis,
      logger: createLogger('imap', config),
      tls,
      registry: reg,
      tuning: t,
    });
    apps.push(app);
    return app;
  };
  const imap = await startImap(tuning, registry);
  const open: ImapFlow[] = [];
  return {
    h,
    mx,
    imap,
    registry,
    cert: tls.cert,
    tenantId: acme.tenant.id,
    domainId: acme.domain.id,
    startImap: (t) => startImap(t),
    async user(localPart, data = {}) {
      const mailbox = await h.seed.mailbox(acme.tenant.id, acme.domain.id, localPart);
      await h.prisma.mailbox.update({
        where: { tenantId_id: { tenantId: acme.tenant.id, id: mailbox.id } },
        data: { passwordHash: await argon2.hash(PASSWORD, { type: argon2.argon2id }), ...data },
      });
      await h.prisma.folder.createMany({
        data: (['sent', 'drafts', 'trash', 'archive'] as const).map((kind) => ({
          tenantId: acme.tenant.id,
          mailboxId: mailbox.id,
          name: kind[0]!.toUpperCase() + kind.slice(1),
          kind,
        })),
      });
      return { id: mailbox.id, address: `${localPart}@acme.test` };
    },
    async client(address, password = PASSWORD, app = imap) {
      const client = new ImapFlow({
        host: '127.0.0.1',
        port: app.ports.imaps,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: { user: address, pass: password },
        logger: false,
      });
      await client.connect();
      open.push(client);
      return client;
    },
    async deliver(to, message) {
      const smtp = await RawSmtp.connect(mx.port);
      await smtp.command('EHLO sender.test');
      const replies = await transaction(smtp, 'someone@sender.test', [to], message);
      smtp.close();
      if (replies.at(-1)!.code !== 250) throw new Error(`not accepted: ${JSON.stringify(replies)}`);
    },
    async close() {
      for (const c of open) await c.logout().catch(() => c.close());
      for (const app of apps) await app.close();
      redis.disconnect();
      await Promise.all(clients.map((c) => c.$disconnect()));
      await h.close();
    },
  };
}
