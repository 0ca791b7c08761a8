import argon2 from 'argon2';
import type { Db } from '@mailroom/db';
import { PASSWORD_HASH_OPTIONS, passwordNeedsRehash, withPasswordHashSlot } from '@mailroom/core';
import { parseMailAddress } from '@mailroom/mail';
import { evaluateIpAccess } from '@mailroom/rules';
import type { Logger } from 'pino';
import { AccessRepository, ipService, type AccountRow } from './access.repository';
import { AccessDenied, type AccessService, type AccessUser, type LoginAttempt } from './access-types';
import { appPasswordLetters, hashAppPassword } from './app-password';
import { AuthCache, type CachedLogin } from './auth-cache';
import type { LoginThrottle } from './login-throttle';
import { pop3Settings } from './pop3-settings';

export interface AccessOptions {
  /** Entries of the in-process auth cache; 0 turns it off. */
  cacheSize: number;
  cacheTtlMs: number;
  /** Keys the cache's hash of the credentials (authCacheSecret(MASTER_KEY)). */
  cacheSecret: Buffer;
  /** Keys app-password hashes (appPasswordKey(MASTER_KEY)); the API hashes with the same. */
  appPasswordKey: Buffer;
  /** Password verification; argon2id by default (tests count calls). */
  verify?: (hash: string, password: string) => Promise<boolean>;
  logger?: Logger;
}

type Credential = { appPasswordId: string | null };

const SIGN_IN_DOMAIN_STATUSES = new Set(['verified', 'active', 'degraded']);
/** A use of an app password is written at most this often per process (and per row, by SQL). */
const TOUCH_INTERVAL_MS = 60_000;

/**
 * Logins for IMAP, POP3 and SMTP submission against the mailbox password or an app password.
 * The login is the full mailbox address, case-insensitive. Unknown logins are verified against
 * a dummy hash, so both cost the same argon2 work and answer the same 'bad-credentials'; only a
 * verified credential earns a more specific reason (disabled, suspended, IP denied). Failures
 * count in the LoginThrottle shared by every protocol, so guessing over IMAP locks SMTP too.
 */
export class AccessAuthenticator {
  private readonly repo: AccessRepository;
  private readonly cache: AuthCache;
  private readonly verify: (hash: string, password: string) => Promise<boolean>;
  private readonly touched = new Map<string, number>();
  private dummyHash: Promise<string> | undefined;

  constructor(
    db: Db,
    private readonly throttle: LoginThrottle,
    private readonly options: AccessOptions,
  ) {
    this.repo = new AccessRepository(db);
    this.cache = new AuthCache(options.cacheSecret, { size: options.cacheSize, ttlMs: options.cacheTtlMs });
    this.verify = options.verify ?? ((hash, password) => argon2.verify(hash, password).catch(() => false));
  }

  /** @throws AccessDenied */
  async authenticate(attempt: LoginAttempt): Promise<AccessUser> {
    const login = attempt.username.trim();
    const { service } = attempt;
    // Count failures against the account the login names, not its spelling: "bob@example.com.",
    // a soft hyphen or full-width letters all reach the same mailbox and must share one lock.
    const parsed = parseMailAddress(login, { smtputf8: true });
    const account = parsed.ok ? `${parsed.value.localKey}@${parsed.value.domain}` : login.toLowerCase();
    if (await this.throttle.isLocked(account, attempt.ip)) throw new AccessDenied('locked', service);
    const cacheKey = this.cache.key(service, account, attempt.password);
    const hit = await this.fromCache(cacheKey, service);
    let row: AccountRow;
    let credential: Credential;
    if (hit) {
      ({ row, credential } = hit);
    } else {
      const found = parsed.ok ? await this.findLive(parsed.value.domain, parsed.value.localKey, service) : null;
      const verified = await this.checkCredential(found, attempt);
      if (!found || !verified) {
        await this.throttle.failed(account, attempt.ip);
        throw new AccessDenied('bad-credentials', service);
      }
      row = found;
      credential = verified;
      if (!credential.appPasswordId) await this.upgradeHash(row, attempt.password);
    }
    await this.throttle.succeeded(account);
    // RFC 4616 §2: acting as someone else is not offered, so the authzid may only repeat the login.
    if (attempt.authzid !== '' && attempt.authzid.toLowerCase() !== login.toLowerCase()) {
      throw new AccessDenied('authzid', service);
    }
    this.checkAllowed(row, attempt);
    if (!hit) this.remember(cacheKey, row, credential);
    if (credential.appPasswordId) await this.touch(row.tenantId, credential.appPasswordId, attempt.ip);
    return toUser(login, row, credential);
  }

  /** False once the mailbox of a session moved past the auth_version it logged in with (or is gone). */
  async isCurrent(user: Pick<AccessUser, 'tenantId' | 'mailboxId' | 'authVersion'>): Promise<boolean> {
    return (await this.repo.authVersion(user.tenantId, user.mailboxId)) === user.authVersion;
  }

  /** A cached login still holds only while the mailbox is at the auth_version it was cached at. */
  private async fromCache(
    key: string,
    service: AccessService,
  ): Promise<{ row: AccountRow; credential: Credential } | null> {
    const cached = this.cache.get(key);
    if (!cached) return null;
    const row = await this.repo.findById(cached.tenantId, cached.mailboxId, service);
    if (!row || row.authVersion !== cached.authVersion || !isLive(row)) {
      this.cache.delete(key);
      return null;
    }
    return { row, credential: { appPasswordId: cached.appPasswordId } };
  }

  private async findLive(domain: string, localKey: string, service: AccessService): Promise<AccountRow | null> {
    const row = await this.repo.findByAddress(domain, localKey, service);
    return row && isLive(row) ? row : null;
  }

  /**
   * An app password (16 letters, found by its keyed hash in one indexed query, and scoped to
   * this service) or else the mailbox password (argon2id; a dummy hash for unknown logins).
   */
  private async checkCredential(row: AccountRow | null, attempt: LoginAttempt): Promise<Credential | null> {
    const letters = appPasswordLetters(attempt.password);
    if (row && letters) {
      const hash = hashAppPassword(this.options.appPasswordKey, letters);
      const app = await this.repo.findAppPassword(row.tenantId, row.mailboxId, hash);
      if (app?.protocols.includes(attempt.service)) return { appPasswordId: app.id };
    }
    this.dummyHash ??= argon2.hash('not a password', PASSWORD_HASH_OPTIONS);
    const ok = await this.verify(row ? row.passwordHash : await this.dummyHash, attempt.password);
    return row && ok ? { appPasswordId: null } : null;
  }

  /**
   * After a good login with the mailbox password, a hash written with older argon2 parameters
   * (or argon2i/d) is replaced by one with PASSWORD_HASH_OPTIONS, as the API does for admins: old
   * hashes keep working and move to the current cost one login at a time. A failure here is
   * logged and the login stands.
   */
  private async upgradeHash(row: AccountRow, password: string): Promise<void> {
    if (!passwordNeedsRehash(row.passwordHash)) return;
    try {
      const hash = await withPasswordHashSlot(() => argon2.hash(password, PASSWORD_HASH_OPTIONS));
      await this.repo.rehashPassword(row.tenantId, row.mailboxId, row.passwordHash, hash);
    } catch (err) {
      this.options.logger?.warn({ err: (err as Error).message }, 'could not rehash a mailbox password');
    }
  }

  /** What a verified credential may learn: the account exists but may not use this service from here. */
  private checkAllowed(row: AccountRow, attempt: LoginAttempt): void {
    const { service } = attempt;
    if (row.mailboxStatus !== 'active') throw new AccessDenied('mailbox-disabled', service);
    if (row.tenantStatus !== 'active' || !SIGN_IN_DOMAIN_STATUSES.has(row.domainStatus)) {
      throw new AccessDenied('suspended', service);
    }
    const enabled = { smtp: row.smtpEnabled, imap: row.imapEnabled, pop3: row.pop3Enabled }[service];
    if (!enabled) throw new AccessDenied('service-disabled', service);
    if (!evaluateIpAccess(row.ipRules, ipService(service), attempt.ip).allowed) {
      throw new AccessDenied('ip-denied', service);
    }
  }

  private remember(key: string, row: AccountRow, credential: Credential): void {
    const value: CachedLogin = {
      tenantId: row.tenantId,
      mailboxId: row.mailboxId,
      appPasswordId: credential.appPasswordId,
      authVersion: row.authVersion,
    };
    this.cache.set(key, value);
  }

  /** Last use of an app password, at most once a minute: a login storm must not become a write storm. */
  private async touch(tenantId: string, id: string, ip: string): Promise<void> {
    const now = Date.now();
    if ((this.touched.get(id) ?? 0) > now - TOUCH_INTERVAL_MS) return;
    this.touched.set(id, now);
    if (this.touched.size > 10_000) this.touched.delete(this.touched.keys().next().value!);
    try {
      await this.repo.touchAppPassword(tenantId, id, ip, new Date(now));
    } catch (err) {
      // The login stands; a missed "last used" is not worth refusing it.
      this.options.logger?.warn({ err: (err as Error).message }, 'could not record app password use');
    }
  }
}

function isLive(row: AccountRow): boolean {
  return row.mailboxStatus !== 'deleted' && row.tenantStatus !== 'deleted' && !row.domainDeleted;
}

function toUser(login: string, row: AccountRow, credential: Credential): AccessUser {
  return {
    login,
    tenantId: row.tenantId,
    mailboxId: row.mailboxId,
    domainId: row.domainId,
    domainName: row.domainName,
    address: `${row.localPart}@${row.domainName}`,
    quotaBytes: row.quotaBytes,
    usedBytes: row.usedBytes,
    via: credential.appPasswordId ? 'app-password' : 'password',
    appPasswordId: credential.appPasswordId,
    pop3: pop3Settings(row),
    authVersion: row.authVersion,
  };
}
