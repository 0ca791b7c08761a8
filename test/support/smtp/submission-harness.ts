import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import argon2 from 'argon2';
import nodemailer from 'nodemailer';
import { loadConfig, loadTls, type Config } from '@mailroom/config';
import { createPrismaClient, type PrismaClient } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import { startMta, type MtaDeps } from '@mailroom/mta/mta';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { mtaEnv } from '@test/support/smtp/harness';
import { Seeder } from '@test/support/smtp/seed';
import { RawSmtp } from '@test/support/smtp/smtp-client';

export type Queued = Array<{ tenantId: string; deliveryId: string }>;

export interface RunningSubmission {
  /** SUBMISSION_PORT: STARTTLS, then AUTH. */
  port: number;
  /** SUBMISSIONS_PORT: implicit TLS. */
  securePort: number;
  /** The MTA's config (its MASTER_KEY keys app-password hashes). */
  config: Config;
  queued: Queued[];
  stop(): Promise<void>;
}

export interface SubmissionHarness {
  db: TestDatabase;
  prisma: PrismaClient;
  seed: Seeder;
  start(overrides?: Record<string, string>, tuning?: MtaDeps['submissionTuning']): Promise<RunningSubmission>;
  /** A mailbox whose password is `password` (argon2id, as the API stores it). */
  user(
    tenantId: string,
    domainId: string,
    localPart: string,
    password: string,
    data?: { smtpEnabled?: boolean; status?: 'active' | 'disabled' },
  ): Promise<{ id: string; address: string }>;
  close(): Promise<void>;
}

/** A test database, a local DNS server, and MTAs in this process whose submission queue hook is recorded. */
export async function createSubmissionHarness(): Promise<SubmissionHarness> {
  const db = await createTestDatabase();
  const dns = await LocalDnsServer.start('');
  const seed = new Seeder(db.prisma);
  const running: RunningSubmission[] = [];
  const clients: PrismaClient[] = [];
  return {
    db,
    prisma: db.prisma,
    seed,
    async start(overrides = {}, tuning = {}) {
      // Redis is shared: every MTA gets its own key prefix, and nothing is ever flushed.
      const prefix = `mrtest_${process.env.MAILROOM_TEST_RUN ?? 'x'}_${randomBytes(4).toString('hex')}`;
      const config = loadConfig(mtaEnv(db, dns, { QUEUE_PREFIX: prefix, ...overrides }));
      const prisma = createPrismaClient({ url: config.DATABASE_URL, poolSize: 4, applicationName: 'mta-test' });
      clients.push(prisma);
      const queued: Queued[] = [];
      const mta = await startMta(config, {
        prisma,
        logger: createLogger('mta', config),
        tls: await loadTls(config),
        onQueued: (deliveries) => {
          queued.push(deliveries);
        },
        submissionTuning: { authDelayStepMs: 10, authMaxDelayMs: 50, ...tuning },
      });
      const handle = {
        port: mta.ports.submission,
        securePort: mta.ports.submissions,
        config,
        queued,
        stop: () => mta.close(),
      };
      running.push(handle);
      return handle;
    },
    async user(tenantId, domainId, localPart, password, data = {}) {
      const { smtpEnabled, status } = data;
      const mailbox = await seed.mailbox(tenantId, domainId, localPart, status ? { status } : {});
      const domain = await db.prisma.domain.findFirstOrThrow({ where: { tenantId, id: domainId } });
      await db.prisma.mailbox.update({
        where: { tenantId_id: { tenantId, id: mailbox.id } },
        data: {
          passwordHash: await argon2.hash(password, { type: argon2.argon2id }),
          smtpEnabled: smtpEnabled ?? true,
        },
      });
      return { id: mailbox.id, address: `${localPart}@${domain.name}` };
    },
    async close() {
      await Promise.all(running.map((r) => r.stop()));
      await Promise.all(clients.map((c) => c.$disconnect()));
      await dns.close();
      await db.drop();
    },
  };
}

/** nodemailer on the implicit-TLS port (or STARTTLS on the other), with the self-signed test certificate. */
export function transport(port: number, user: string, pass: string, secure = true) {
  return nodemailer.createTransport({
    host: '127.0.0.1',
    port,
    secure,
    requireTLS: !secure,
    auth: { user, pass },
    tls: { rejectUnauthorized: false },
    name: 'client.test',
  });
}

/** The error nodemailer reports, as the SMTP reply line. */
export async function sendError(send: Promise<unknown>): Promise<string> {
  try {
    await send;
  } catch (err) {
    const e = err as { response?: string; message: string };
    return e.response ?? e.message;
  }
  throw new Error('expected the send to fail');
}

/** A raw session on the STARTTLS port, after STARTTLS and EHLO; authenticated when a login is given. */
export async function rawSession(port: number, login?: { user: string; pass: string }): Promise<RawSmtp> {
  const client = await RawSmtp.connect(port);
  await client.command('EHLO client.test');
  const starttls = await client.command('STARTTLS');
  if (starttls.code !== 220) throw new Error(`STARTTLS: ${starttls.text}`);
  await client.startTls();
  await client.command('EHLO client.test');
  if (login) {
    const reply = await client.command(`AUTH PLAIN ${plainToken('', login.user, login.pass)}`);
    if (reply.code !== 235) throw new Error(`AUTH: ${reply.text}`);
  }
  return client;
}

export function plainToken(authzid: string, authcid: string, password: string): string {
  return Buffer.from(`${authzid}\0${authcid}\0${password}`).toString('base64');
}

const SMTPLIB_LOGIN = String.raw`
import json, smtplib, ssl, sys
a = json.loads(sys.argv[1])
ctx = ssl.create_default_context()
ctx.check_hostname = False
ctx.verify_mode = ssl.CERT_NONE
out = {}
if a['secure']:
    s = smtplib.SMTP_SSL('127.0.0.1', a['port'], local_hostname='py.client.test', context=ctx, timeout=30)
    s.ehlo()
else:
    s = smtplib.SMTP('127.0.0.1', a['port'], local_hostname='py.client.test', timeout=30)
    s.ehlo()
    s.starttls(context=ctx)
    s.ehlo()
out['auth'] = sorted(s.esmtp_features.get('auth', '').upper().split())
try:
    s.user, s.password = a['user'], a['password']
    code, resp = s.auth('LOGIN', s.auth_login, initial_response_ok=False)
    out['login'] = [code, resp.decode()]
    out['refused'] = {k: [v[0], v[1].decode()] for k, v in s.sendmail(a['from'], a['to'], a['message'].encode()).items()}
except smtplib.SMTPResponseException as e:
    out['error'] = [e.smtp_code, e.smtp_error.decode()]
except smtplib.SMTPRecipientsRefused as e:
    out['error'] = [0, json.dumps({k: [v[0], v[1].decode()] for k, v in e.recipients.items()})]
try:
    s.quit()
except Exception:
    pass
print(json.dumps(out))
`;

export interface SmtplibLoginResult {
  auth: string[];
  login?: [number, string];
  refused?: Record<string, [number, string]>;
  error?: [number, string];
}

/** Python's smtplib: AUTH LOGIN (forced), then one message. */
export function smtplibLogin(args: {
  port: number;
  secure: boolean;
  user: string;
  password: string;
  from: string;
  to: string[];
  message: string;
}): Promise<SmtplibLoginResult> {
  return new Promise((resolve, reject) => {
    execFile('python3', ['-c', SMTPLIB_LOGIN, JSON.stringify(args)], { timeout: 60_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`python3: ${err.message}\n${stderr}`));
      else resolve(JSON.parse(stdout) as SmtplibLoginResult);
    });
  });
}
