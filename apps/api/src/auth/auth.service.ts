import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import type { Config } from '@mailroom/config';
import { PASSWORD_HASH_OPTIONS, passwordNeedsRehash, Unauthenticated, withPasswordHashSlot } from '@mailroom/core';
import { CONFIG } from '../infra/tokens';
import { AuthRepository } from './auth.repository';
import { ThrottleService } from './throttle.service';
import { TokenService } from './token.service';

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
}

const INVALID_LOGIN = 'Invalid email or password.';
const INVALID_REFRESH = 'The refresh token is invalid, expired or already used; log in again.';

/**
 * Logins, refresh token rotation and logout. Every failure answers the same sentence, and an
 * unknown email costs the same argon2 work as a known one, so nothing tells whether an email
 * exists.
 */
@Injectable()
export class AuthService {
  private dummyHash: Promise<string> | undefined;

  constructor(
    private readonly auth: AuthRepository,
    private readonly tokens: TokenService,
    private readonly throttle: ThrottleService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  async login(emailInput: string, password: string, ip: string): Promise<TokenPair> {
    const email = emailInput.trim().toLowerCase();
    await this.throttle.assertMayTry(ip, email);
    const user = await this.auth.findUserByEmail(email);
    // The dummy hash has the parameters of a new hash, so an unknown email costs what a known one does.
    this.dummyHash ??= withPasswordHashSlot(() => argon2.hash('not a password', PASSWORD_HASH_OPTIONS));
    const stored = user?.passwordHash ?? (await this.dummyHash);
    const passwordOk = await withPasswordHashSlot(() => argon2.verify(stored, password)).catch(() => false);
    const locked = user?.lockedUntil !== null && user?.lockedUntil !== undefined && user.lockedUntil > new Date();
    if (!user || !passwordOk || user.disabled || locked) {
      const failures = await this.throttle.recordFailure(ip, email);
      if (user && !passwordOk) await this.recordUserFailure(user.id, failures);
      throw new Unauthenticated(INVALID_LOGIN);
    }
    await this.throttle.clearAccount(email);
    // A hash from older parameters (argon2's defaults: 64 MiB, t=3, p=4) verified: store the
    // password again at today's, so the next login costs what it should.
    const rehashed = passwordNeedsRehash(user.passwordHash)
      ? await withPasswordHashSlot(() => argon2.hash(password, PASSWORD_HASH_OPTIONS))
      : undefined;
    await this.auth.recordLogin(user.id, new Date(), rehashed);
    return this.issue(user.id, randomUUID(), ip);
  }

  /** The database side of the lockout, which survives a Redis restart. */
  private async recordUserFailure(userId: string, redisFailures: number): Promise<void> {
    const failures = await this.auth.countFailedLogin(userId);
    if (Math.max(failures, redisFailures) >= this.config.LOGIN_MAX_FAILURES) {
      await this.auth.lockUser(userId, new Date(Date.now() + this.config.LOGIN_LOCK_MINUTES * 60_000));
    }
  }

  /**
   * Rotates a refresh token. A token presented twice means it was stolen (or replayed): the
   * whole family, every token descended from that login, is revoked.
   */
  async refresh(token: string, ip: string): Promise<TokenPair> {
    await this.throttle.assertMayTry(ip);
    const hash = TokenService.hashRefresh(token);
    const row = await this.auth.findRefreshToken(hash);
    if (!row) {
      await this.throttle.recordFailure(ip);
      throw new Unauthenticated(INVALID_REFRESH);
    }
    if (row.revokedAt || row.expiresAt <= new Date() || row.user.disabled) {
      if (row.revokedAt) await this.revokeFamily(row.familyId);
      throw new Unauthenticated(INVALID_REFRESH);
    }
    // Compare-and-set: of two concurrent refreshes with one token, only one wins; the other is
    // a reuse and revokes the family.
    const next = this.tokens.newRefreshToken();
    const nextId = randomUUID();
    if (!(await this.auth.claimRefreshToken(row.id, nextId, new Date()))) {
      await this.revokeFamily(row.familyId);
      throw new Unauthenticated(INVALID_REFRESH);
    }
    await this.auth.createRefreshToken({
      id: nextId,
      userId: row.userId,
      familyId: row.familyId,
      tokenHash: next.hash,
      expiresAt: this.refreshExpiry(),
      createdIp: ip,
    });
    return {
      accessToken: this.tokens.signAccess(row.userId),
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTtlSeconds,
      refreshToken: next.token,
    };
  }

  /** Revokes the login the token belongs to. Unknown tokens are ignored (logout is idempotent). */
  async logout(token: string): Promise<void> {
    const row = await this.auth.findRefreshToken(TokenService.hashRefresh(token));
    if (row) await this.revokeFamily(row.familyId);
  }

  private async revokeFamily(familyId: string): Promise<void> {
    await this.auth.revokeRefreshFamily(familyId, new Date());
  }

  private refreshExpiry(): Date {
    return new Date(Date.now() + this.config.REFRESH_TOKEN_TTL_DAYS * 86_400_000);
  }

  private async issue(userId: string, familyId: string, ip: string): Promise<TokenPair> {
    const refresh = this.tokens.newRefreshToken();
    await this.auth.createRefreshToken({
      userId,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: this.refreshExpiry(),
      createdIp: ip,
    });
    return {
      accessToken: this.tokens.signAccess(userId),
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTtlSeconds,
      refreshToken: refresh.token,
    };
  }
}
