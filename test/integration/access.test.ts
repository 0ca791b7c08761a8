import { randomBytes } from 'node:crypto';
import argon2 from 'argon2';
import { connectRedis, deleteKeys } from '@test/support/redis-cluster';
import type { RedisClient } from '@mailroom/queue';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AccessAuthenticator,
  AccessDenied,
  AccessEvents,
  appPasswordKey,
  authCacheSecret,
  generateAppPassword,
  LoginThrottle,
  RedisCounters,
  type AccessService,
  type LoginAttempt,
} from '@mailroom/access';
import { passwordNeedsRehash } from '@mailroom/core';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Seeder } from '@test/support/smtp/seed';

// The authenticator of IMAP, POP3 and SMTP AUTH against real PostgreSQL and Redis.

const PASSWORD = 'correct horse battery staple';
const IP = '192.0.2.10';
const logger = pino({ level: 'silent' });
const masterKey = randomBytes(32);
const appKey = appPasswordKey(masterKey);

let db: TestDatabase;
let redis: RedisClient;
let seed: Seeder;
let tenantId: string;
let domainId: string;
const prefix = `mrtest_access_${randomBytes(4).toString('hex')}`;

/** An authenticator as one process has it; `verifies` counts argon2 runs. */
function authenticator(options: { cacheSize?: number } = {}) {
  const counters = new RedisCounters(redis, prefix, logger);
  const throttle = new LoginThrottle(counters, {
    maxFailures: 3,
    maxFailuresPerIp: 1_000,
    windowMs: 60_000,
    slowDownAfter: 100,
    delayStepMs: 0,
    maxDelayMs: 0,
  });
  const stats = { verifies: 0 };
  const sut = new AccessAuthenticator(db.prisma, throttle, {
    cacheSize: options.cacheSize ?? 100,
    cacheTtlMs: 60_000,
    cacheSecret: authCacheSecret(masterKey),
    appPasswordKey: appKey,
    verify: async (hash, password) => {
      stats.verifies++;
      return argon2.verify(hash, password).catch(() => false);
    },
    logger,
  });
  return { sut, stats, counters };
}

async function user(localPart: string, data: { imapEnabled?: boolean; pop3Enabled?: boolean } = {}) {
  const mailbox = await seed.mailbox(tenantId, domainId, localPart);
  await db.prisma.mailbox.update({
    where: { tenantId_id: { tenantId, id: mailbox.id } },
    data: { passwordHash: await argon2.hash(PASSWORD, { type: argon2.argon2id }), ...data },
  });
  return { id: mailbox.id, address: `${localPart}@access.test` };
}

async function appPassword(mailboxId: string, protocols: AccessService[]) {
  const made = generateAppPassword(appKey);
  const row = await db.prisma.appPassword.create({
    data: { tenantId, mailboxId, name: 'phone', secretHash: made.secretHash, protocols },
  });
  return { id: row.id, password: made.password };
}

function attempt(username: string, password: string, service: AccessService = 'imap'): LoginAttempt {
  return { username, authzid: '', password, ip: IP, service };
}

async function denied(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    if (err instanceof AccessDenied) return err.reason;
    throw err;
  }
  throw new Error('expected AccessDenied');
}

beforeAll(async () => {
  db = await createTestDatabase();
  redis = connectRedis();
  seed = new Seeder(db.prisma);
  const hosted = await seed.hosted('access.test', []);
  tenantId = hosted.tenant.id;
  domainId = hosted.domain.id;
});
afterAll(async () => {
  await deleteKeys(redis, `${prefix}:*`);
  redis.disconnect();
  await db.drop();
});

describe('AccessAuthenticator', () => {
  it('logs in with the mailbox password, the login case-insensitive, POP3 serving the Inbox', async () => {
    const alice = await user('alice');
    const { sut } = authenticator();
    const result = await sut.authenticate(attempt('Alice@ACCESS.test', PASSWORD));
    const inbox = await db.prisma.folder.findFirstOrThrow({ where: { mailboxId: alice.id, kind: 'inbox' } });
    expect(result).toMatchObject({
      login: 'Alice@ACCESS.test',
      tenantId,
      mailboxId: alice.id,
      domainId,
      domainName: 'access.test',
      address: 'alice@access.test',
      via: 'password',
      appPasswordId: null,
      pop3: { folderIds: [inbox.id], markRead: false, deleteMode: 'delete' },
    });
  });

  it('refuses an unknown login and a wrong password alike, and counts the failure in Redis', async () => {
    await user('bob');
    const { sut, counters } = authenticator();
    expect(await denied(sut.authenticate(attempt('ghost@access.test', PASSWORD)))).toBe('bad-credentials');
    expect(await denied(sut.authenticate(attempt('bob@access.test', 'wrong')))).toBe('bad-credentials');
    expect(await counters.peek(counters.key('auth-fail-acct', 'bob@access.test'))).toBe(1);
  });

  it('shares the lockout with SMTP AUTH: IMAP failures lock SMTP, SMTP failures lock POP3', async () => {
    const carol = await user('carol');
    const dave = await user('dave');
    const imapProcess = authenticator();
    const mtaProcess = authenticator();
    for (let i = 0; i < 3; i++) await denied(imapProcess.sut.authenticate(attempt(carol.address, `guess ${i}`)));
    expect(await denied(mtaProcess.sut.authenticate(attempt(carol.address, PASSWORD, 'smtp')))).toBe('locked');
    for (let i = 0; i < 3; i++) {
      await denied(mtaProcess.sut.authenticate(attempt(dave.address, `guess ${i}`, 'smtp')));
    }
    expect(await denied(imapProcess.sut.authenticate(attempt(dave.address, PASSWORD, 'pop3')))).toBe('locked');
  });

  it('takes an app password only for its protocols, records its use, and never runs argon2 for it', async () => {
    const erin = await user('erin');
    const app = await appPassword(erin.id, ['imap']);
    const { sut, stats } = authenticator();
    const ok = await sut.authenticate(attempt(erin.address, app.password.toUpperCase()));
    expect(ok).toMatchObject({ via: 'app-password', appPasswordId: app.id });
    expect(stats.verifies).toBe(0);
    const row = await db.prisma.appPassword.findFirstOrThrow({ where: { id: app.id } });
    expect(row.lastUsedIp).toBe(IP);
    expect(row.lastUsedAt).not.toBeNull();
    expect(await denied(sut.authenticate(attempt(erin.address, app.password, 'pop3')))).toBe('bad-credentials');
    // Typed without spaces, as phones often do.
    expect((await sut.authenticate(attempt(erin.address, app.password.replace(/ /g, '')))).via).toBe('app-password');
  });

  it('refuses a revoked app password at once, although the login was cached', async () => {
    const fred = await user('fred');
    const app = await appPassword(fred.id, ['imap', 'pop3']);
    const { sut } = authenticator();
    await sut.authenticate(attempt(fred.address, app.password));
    await db.prisma.appPassword.update({
      where: { tenantId_id: { tenantId, id: app.id } },
      data: { revokedAt: new Date() },
    });
    expect(await denied(sut.authenticate(attempt(fred.address, app.password)))).toBe('bad-credentials');
  });

  it('drops the cached login at once when the password changes', async () => {
    const gina = await user('gina');
    const { sut } = authenticator();
    await sut.authenticate(attempt(gina.address, PASSWORD));
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId, id: gina.id } },
      data: { passwordHash: await argon2.hash('a new password 42', { type: argon2.argon2id }) },
    });
    expect(await denied(sut.authenticate(attempt(gina.address, PASSWORD)))).toBe('bad-credentials');
    expect((await sut.authenticate(attempt(gina.address, 'a new password 42'))).mailboxId).toBe(gina.id);
  });

  it('says IMAP is disabled only after a correct password', async () => {
    const hank = await user('hank', { imapEnabled: false });
    const { sut } = authenticator();
    expect(await denied(sut.authenticate(attempt(hank.address, 'wrong')))).toBe('bad-credentials');
    expect(await denied(sut.authenticate(attempt(hank.address, PASSWORD)))).toBe('service-disabled');
    expect((await sut.authenticate(attempt(hank.address, PASSWORD, 'pop3'))).mailboxId).toBe(hank.id);
  });

  it('turns a cached login away when the mailbox is disabled or its protocol switched off', async () => {
    const ivy = await user('ivy');
    const { sut } = authenticator();
    await sut.authenticate(attempt(ivy.address, PASSWORD, 'pop3'));
    await db.prisma.mailbox.update({ where: { tenantId_id: { tenantId, id: ivy.id } }, data: { pop3Enabled: false } });
    expect(await denied(sut.authenticate(attempt(ivy.address, PASSWORD, 'pop3')))).toBe('service-disabled');
    await db.prisma.mailbox.update({ where: { tenantId_id: { tenantId, id: ivy.id } }, data: { status: 'disabled' } });
    expect(await denied(sut.authenticate(attempt(ivy.address, PASSWORD, 'imap')))).toBe('mailbox-disabled');
  });

  it("applies the tenant's IP rules of the imap service to IMAP only", async () => {
    const other = await seed.hosted('walled-access.test', []);
    const mailbox = await seed.mailbox(other.tenant.id, other.domain.id, 'joe');
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId: other.tenant.id, id: mailbox.id } },
      data: { passwordHash: await argon2.hash(PASSWORD, { type: argon2.argon2id }) },
    });
    await db.prisma.ipAccessRule.create({
      data: { tenantId: other.tenant.id, cidr: '192.0.2.0/24', action: 'deny', service: 'imap', priority: 10 },
    });
    const { sut } = authenticator();
    expect(await denied(sut.authenticate(attempt('joe@walled-access.test', PASSWORD, 'imap')))).toBe('ip-denied');
    expect((await sut.authenticate(attempt('joe@walled-access.test', PASSWORD, 'pop3'))).mailboxId).toBe(mailbox.id);
  });

  it('runs argon2 once for a repeated login, and again for another password or service', async () => {
    const kate = await user('kate');
    const { sut, stats } = authenticator();
    for (let i = 0; i < 5; i++) await sut.authenticate(attempt(kate.address, PASSWORD));
    expect(stats.verifies).toBe(1);
    await denied(sut.authenticate(attempt(kate.address, 'wrong')));
    await sut.authenticate(attempt(kate.address, PASSWORD, 'pop3'));
    expect(stats.verifies).toBe(3);
    // A failed login never enters the cache: the same wrong password is verified again.
    await denied(sut.authenticate(attempt(kate.address, 'wrong')));
    expect(stats.verifies).toBe(4);
    const uncached = authenticator({ cacheSize: 0 });
    for (let i = 0; i < 3; i++) await uncached.sut.authenticate(attempt(kate.address, PASSWORD));
    expect(uncached.stats.verifies).toBe(3);
  });

  it('resolves the POP3 folders by name at login, Inbox first, unknown names skipped', async () => {
    const liam = await user('liam');
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId, id: liam.id } },
      data: { pop3Folders: ['Junk', 'Gone', 'inbox'], pop3MarkRead: true, pop3DeleteMode: 'keep' },
    });
    const folders = await db.prisma.folder.findMany({ where: { mailboxId: liam.id } });
    const id = (kind: string) => folders.find((f) => f.kind === kind)!.id;
    const { sut } = authenticator();
    expect((await sut.authenticate(attempt(liam.address, PASSWORD, 'pop3'))).pop3).toEqual({
      folderIds: [id('inbox'), id('junk')],
      markRead: true,
      deleteMode: 'keep',
    });
  });

  it('rehashes an older-parameter mailbox hash at the next good login only, keeping sessions valid', async () => {
    const dora = await user('dora'); // hashed with argon2's defaults (m=65536, t=3, p=4)
    const stored = async () =>
      db.prisma.mailbox.findUniqueOrThrow({
        where: { tenantId_id: { tenantId, id: dora.id } },
        select: { passwordHash: true, authVersion: true },
      });
    const before = await stored();
    expect(passwordNeedsRehash(before.passwordHash)).toBe(true);
    const { sut } = authenticator();
    expect(await denied(sut.authenticate(attempt(dora.address, 'wrong password')))).toBe('bad-credentials');
    expect((await stored()).passwordHash).toBe(before.passwordHash);
    const app = await appPassword(dora.id, ['imap']);
    await sut.authenticate(attempt(dora.address, app.password));
    expect((await stored()).passwordHash).toBe(before.passwordHash);

    await sut.authenticate(attempt(dora.address, PASSWORD));
    const after = await stored();
    expect(after.passwordHash).not.toBe(before.passwordHash);
    expect(passwordNeedsRehash(after.passwordHash)).toBe(false);
    expect(await argon2.verify(after.passwordHash, PASSWORD)).toBe(true);
    expect(after.authVersion).toBe(before.authVersion);
    expect(await sut.isCurrent({ tenantId, mailboxId: dora.id, authVersion: before.authVersion })).toBe(true);
    // Another process (an empty cache) logs in with the new hash, and leaves it as it is.
    const other = authenticator({ cacheSize: 0 });
    await other.sut.authenticate(attempt(dora.address, PASSWORD));
    expect((await stored()).passwordHash).toBe(after.passwordHash);
  });

  it('never overwrites a password changed while an old hash was being rehashed', async () => {
    const fiona = await user('fiona');
    const old = (await db.prisma.mailbox.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id: fiona.id } } }))
      .passwordHash;
    const changed = await argon2.hash('a new password', { type: argon2.argon2id });
    await db.prisma.mailbox.update({
      where: { tenantId_id: { tenantId, id: fiona.id } },
      data: { passwordHash: changed },
    });
    const { sut } = authenticator();
    // The login read the old row; the password changed before its rehash was written.
    const repo = (sut as unknown as { repo: { rehashPassword: (...a: string[]) => Promise<boolean> } }).repo;
    expect(await repo.rehashPassword(tenantId, fiona.id, old, await argon2.hash(PASSWORD))).toBe(false);
    const now = await db.prisma.mailbox.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id: fiona.id } } });
    expect(now.passwordHash).toBe(changed);
  });

  it('refuses an authorization identity other than the login after the password', async () => {
    const mia = await user('mia');
    const { sut } = authenticator();
    const sent = { ...attempt(mia.address, PASSWORD), authzid: 'someone@access.test' };
    expect(await denied(sut.authenticate(sent))).toBe('authzid');
  });
});

describe('AccessEvents', () => {
  it('reports the mailbox when its auth_version moves (password change, app-password revocation)', async () => {
    const nora = await user('nora');
    const app = await appPassword(nora.id, ['imap']);
    const events = new AccessEvents({ databaseUrl: db.url, logger });
    await events.start();
    const seen: string[] = [];
    events.onRevoked((t, m) => seen.push(`${t}:${m}`));
    await db.prisma.mailbox.update({ where: { tenantId_id: { tenantId, id: nora.id } }, data: { displayName: 'N' } });
    await db.prisma.appPassword.update({
      where: { tenantId_id: { tenantId, id: app.id } },
      data: { revokedAt: new Date() },
    });
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual([`${tenantId}:${nora.id}`]);
    const { sut } = authenticator();
    const logged = await sut.authenticate(attempt(nora.address, PASSWORD));
    expect(await sut.isCurrent(logged)).toBe(true);
    await db.prisma.mailbox.update({ where: { tenantId_id: { tenantId, id: nora.id } }, data: { imapEnabled: false } });
    expect(await sut.isCurrent(logged)).toBe(false);
    await expect.poll(() => seen.length, { timeout: 5_000 }).toBe(2);
    await events.close();
  });

  it('reconnects after losing its LISTEN connection, says so, and hears later changes', async () => {
    const olga = await user('olga');
    const events = new AccessEvents({ databaseUrl: db.url, logger, reconnectDelayMs: 50 });
    await events.start();
    const seen: string[] = [];
    let reconnects = 0;
    events.onRevoked((_t, m) => seen.push(m));
    events.onReconnected(() => reconnects++);
    await db.prisma.$executeRaw`SELECT pg_terminate_backend(pid) FROM pg_stat_activity
      WHERE application_name = 'mailroom-access-events' AND datname = current_database()`;
    await expect.poll(() => reconnects, { timeout: 5_000 }).toBe(1);
    await db.prisma.mailbox.update({ where: { tenantId_id: { tenantId, id: olga.id } }, data: { status: 'disabled' } });
    await expect.poll(() => seen, { timeout: 5_000 }).toEqual([olga.id]);
    await events.close();
  });
});
