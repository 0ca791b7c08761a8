import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { loadConfig, loadTls, type Config } from '@mailroom/config';
import { createPrismaClient, type PrismaClient } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import { startMta } from '@mailroom/mta/mta';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Seeder } from '@test/support/smtp/seed';
import { sharedRedisEnv } from '@test/support/redis-cluster';

export interface Harness {
  db: TestDatabase;
  dns: LocalDnsServer;
  seed: Seeder;
  prisma: PrismaClient;
  start(overrides?: Record<string, string>, options?: { databaseUrl?: string }): Promise<RunningInbound>;
  close(): Promise<void>;
}

export interface RunningInbound {
  port: number;
  /** SUBMISSIONS_PORT (implicit TLS) of the same MTA. */
  submissionsPort: number;
  config: Config;
  stop(): Promise<void>;
}

/** Base environment of an MTA under test: loopback, free ports, DNS only from the local server. */
export function mtaEnv(db: TestDatabase, dns: LocalDnsServer, overrides: Record<string, string> = {}) {
  return {
    NODE_ENV: 'test',
    LOG_LEVEL: 'silent',
    DATABASE_URL: db.url,
    ...sharedRedisEnv(),
    MX_HOSTNAME: 'mx.mailroom.test',
    MASTER_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-mta-test-')),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: '0',
    SUBMISSION_PORT: '0',
    SUBMISSIONS_PORT: '0',
    DNS_SERVERS: `127.0.0.1:${dns.port}`,
    DNS_TIMEOUT_MS: '1000',
    ...overrides,
  };
}

/**
 * A test database, a local DNS server (the MTA never asks a real resolver) and MTAs started in
 * this process on demand, each with its own settings.
 */
export async function createHarness(zone = ''): Promise<Harness> {
  const db = await createTestDatabase();
  const dns = await LocalDnsServer.start(zone);
  const running: RunningInbound[] = [];
  const clients: PrismaClient[] = [];
  return {
    db,
    dns,
    seed: new Seeder(db.prisma),
    prisma: db.prisma,
    async start(overrides = {}, options = {}) {
      const config = loadConfig(
        mtaEnv(db, dns, { ...overrides, ...(options.databaseUrl ? { DATABASE_URL: options.databaseUrl } : {}) }),
      );
      const prisma = createPrismaClient({ url: config.DATABASE_URL, poolSize: 4, applicationName: 'mta-test' });
      clients.push(prisma);
      const logger = createLogger('mta', config);
      const mta = await startMta(config, { prisma, logger, tls: await loadTls(config) });
      const handle = {
        port: mta.ports.inbound,
        submissionsPort: mta.ports.submissions,
        config,
        stop: () => mta.close(),
      };
      running.push(handle);
      return handle;
    },
    async close() {
      await Promise.all(running.map((r) => r.stop()));
      await Promise.all(clients.map((c) => c.$disconnect()));
      await dns.close();
      await db.drop();
    },
  };
}

/** A plain RFC 5322 message with CRLF line endings. */
export function message(fields: Record<string, string>, body = 'Hello.'): string {
  const header = Object.entries(fields)
    .map(([k, v]) => `${k}: ${v}`)
    .join('\r\n');
  return `${header}\r\n\r\n${body.replace(/\r?\n/g, '\r\n')}\r\n`;
}

export function basicMessage(from: string, to: string, subject = 'Test'): string {
  return message({
    From: from,
    To: to,
    Subject: subject,
    Date: new Date().toUTCString(),
    'Message-ID': `<${randomBytes(6).toString('hex')}@sender.test>`,
  });
}
