import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { apiKeyMatches, apiKeyPrefix, Forbidden, isScope, Unauthenticated, type Scope } from '@mailroom/core';
import type { Tenant } from '@mailroom/db';
import { ipInCidrs } from '@mailroom/rules';
import { AuthRepository } from './auth.repository';
import { userPrincipal, type Principal } from './principal';
import { ThrottleService } from './throttle.service';
import { TokenService } from './token.service';

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
const BAD_KEY = 'The API key is invalid, expired or revoked.';
const LAST_USED_EVERY_MS = 60_000;
// After a failed last-use write (the database is most likely down), none is tried for this long.
const LAST_USED_RETRY_MS = 10_000;

/** Turns a bearer credential into a Principal, or refuses it. */
@Injectable()
export class CredentialService {
  private lastUseWritesPausedUntil = 0;

  constructor(
    private readonly auth: AuthRepository,
    private readonly tokens: TokenService,
    private readonly throttle: ThrottleService,
    private readonly logger: PinoLogger,
  ) {}

  /**
   * The principal of a bearer credential and, looked up in the same statement, the tenant
   * `tenantId` names (null when missing, or when no tenant or no valid id was given): the
   * guard decides whether the principal may see it. `read` (a GET or HEAD request) may take
   * the credential's rows from the CredentialCache; a write always reads them.
   */
  async authenticate(
    bearer: string,
    ip: string,
    tenantId: string | null = null,
    read = false,
  ): Promise<{ principal: Principal; tenant: Tenant | null }> {
    const tenant = tenantId !== null && UUID.test(tenantId) ? tenantId : null;
    return bearer.startsWith('mr_') ? this.apiKey(bearer, ip, tenant, read) : this.user(bearer, ip, tenant, read);
  }

  private async user(token: string, ip: string, tenantId: string | null, read: boolean) {
    const claims = this.tokens.verifyAccess(token);
    const sessionId = claims.sid !== undefined && UUID.test(claims.sid) ? claims.sid : null;
    const found = UUID.test(claims.sub)
      ? await this.auth.findUserForRequest(claims.sub, tenantId, sessionId, read)
      : null;
    const user = found?.credential;
    if (!user || user.disabled) throw new Unauthenticated('This account no longer exists or is disabled.');
    if (!user.sessionLive) throw new Unauthenticated('This session was ended; sign in again.');
    if (user.resellerStatus === 'suspended') throw new Forbidden('Your reseller account is suspended.');
    const principal: Principal = {
      ...userPrincipal(user, ip),
      sessionId,
      mfaEnrolmentOnly: claims.enr === true,
    };
    return { principal, tenant: found.tenant };
  }

  /**
   * Keys are checked on every request: a write against the database, a read against the
   * CredentialCache, which every change to a key or its owners empties (so a revocation takes
   * effect in this process at once, in others when its notification arrives). Failures count
   * against the client IP (brute force).
   */
  private async apiKey(key: string, ip: string, tenantId: string | null, read: boolean) {
    await this.throttle.assertMayTry(ip);
    const prefix = apiKeyPrefix(key);
    const found = prefix ? await this.auth.findApiKeyForRequest(prefix, tenantId, read) : null;
    const row = found?.credential;
    const now = new Date();
    if (!row || !apiKeyMatches(key, row.keyHash) || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) {
      await this.throttle.recordFailure(ip);
      throw new Unauthenticated(BAD_KEY);
    }
    if (row.tenantStatus === 'deleted') throw new Unauthenticated(BAD_KEY);
    if (row.resellerStatus === 'suspended') throw new Forbidden('Your reseller account is suspended.');
    if (row.ipAllowlist.length > 0 && !ipInCidrs(ip, row.ipAllowlist)) {
      throw new Forbidden(`This API key may not be used from ${ip}.`);
    }
    const due =
      !row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_EVERY_MS || row.lastUsedIp !== ip;
    if (due && now.getTime() >= this.lastUseWritesPausedUntil) {
      // Recorded at most once a minute per key and address: not a write per request. The row
      // may be the CredentialCache's (that write does not empty it): it now says so too, and
      // says it no longer if the write fails (unless a newer use replaced it), so that a request
      // after a short pause tries again rather than one a minute later or one per request.
      const before = { at: row.lastUsedAt, ip: row.lastUsedIp };
      row.lastUsedAt = now;
      row.lastUsedIp = ip;
      this.auth.recordApiKeyUse(row.id, now, ip).catch((err: unknown) => {
        this.lastUseWritesPausedUntil = Date.now() + LAST_USED_RETRY_MS;
        if (row.lastUsedAt === now) {
          row.lastUsedAt = before.at;
          row.lastUsedIp = before.ip;
        }
        this.logger.warn({ err, keyId: row.id }, 'could not record API key use');
      });
    }
    const principal: Principal = {
      kind: 'api_key',
      id: row.id,
      label: row.name,
      role: 'api_key',
      platform: false,
      resellerId: row.resellerId,
      tenantId: row.tenantId,
      scopes: new Set(row.scopes.filter(isScope) as Scope[]),
      domains: row.domains,
      ipAllowlist: row.ipAllowlist,
      expiresAt: row.expiresAt,
      ip,
      sessionId: null,
      mfaEnrolmentOnly: false,
    };
    return { principal, tenant: found.tenant };
  }
}
