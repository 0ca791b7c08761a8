import { Injectable } from '@nestjs/common';
import { PinoLogger } from 'nestjs-pino';
import { apiKeyMatches, apiKeyPrefix, Forbidden, isScope, Unauthenticated, type Scope } from '@mailroom/core';
import { ipInCidrs } from '@mailroom/rules';
import { AuthRepository } from './auth.repository';
import { scopesForRole, type Principal } from './principal';
import { ThrottleService } from './throttle.service';
import { TokenService } from './token.service';

const BAD_KEY = 'The API key is invalid, expired or revoked.';
const LAST_USED_EVERY_MS = 60_000;

/** Turns a bearer credential into a Principal, or refuses it. */
@Injectable()
export class CredentialService {
  constructor(
    private readonly auth: AuthRepository,
    private readonly tokens: TokenService,
    private readonly throttle: ThrottleService,
    private readonly logger: PinoLogger,
  ) {}

  async authenticate(bearer: string, ip: string): Promise<Principal> {
    return bearer.startsWith('mr_') ? this.apiKey(bearer, ip) : this.user(bearer, ip);
  }

  private async user(token: string, ip: string): Promise<Principal> {
    const claims = this.tokens.verifyAccess(token);
    const user = await this.auth.findUserWithReseller(claims.sub);
    if (!user || user.disabled) throw new Unauthenticated('This account no longer exists or is disabled.');
    if (user.reseller?.status === 'suspended') throw new Forbidden('Your reseller account is suspended.');
    return {
      kind: 'user',
      id: user.id,
      label: user.email,
      role: user.role,
      platform: user.role === 'platform_admin',
      resellerId: user.resellerId,
      tenantId: user.tenantId,
      scopes: new Set(scopesForRole(user.role)),
      domains: [],
      ipAllowlist: [],
      expiresAt: null,
      ip,
    };
  }

  /**
   * Keys are checked on every request against the database, so a revocation takes effect at
   * once. Failures count against the client IP (brute force).
   */
  private async apiKey(key: string, ip: string): Promise<Principal> {
    await this.throttle.assertMayTry(ip);
    const prefix = apiKeyPrefix(key);
    const row = prefix ? await this.auth.findApiKeyByPrefix(prefix) : null;
    const now = new Date();
    if (!row || !apiKeyMatches(key, row.keyHash) || row.revokedAt || (row.expiresAt && row.expiresAt <= now)) {
      await this.throttle.recordFailure(ip);
      throw new Unauthenticated(BAD_KEY);
    }
    if (row.tenant?.status === 'deleted') throw new Unauthenticated(BAD_KEY);
    if (row.reseller?.status === 'suspended') throw new Forbidden('Your reseller account is suspended.');
    if (row.ipAllowlist.length > 0 && !ipInCidrs(ip, row.ipAllowlist)) {
      throw new Forbidden(`This API key may not be used from ${ip}.`);
    }
    if (!row.lastUsedAt || now.getTime() - row.lastUsedAt.getTime() > LAST_USED_EVERY_MS || row.lastUsedIp !== ip) {
      // Recorded at most once a minute per key and address: not a write per request.
      this.auth
        .recordApiKeyUse(row.id, now, ip)
        .catch((err: unknown) => this.logger.warn({ err, keyId: row.id }, 'could not record API key use'));
    }
    return {
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
    };
  }
}
