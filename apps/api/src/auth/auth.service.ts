import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import argon2 from 'argon2';
import type { Config } from '@mailroom/config';
import {
  PASSWORD_HASH_OPTIONS,
  passwordNeedsRehash,
  RateLimited,
  Unauthenticated,
  withPasswordHashSlot,
} from '@mailroom/core';
import type { AdminUser } from '@mailroom/db';
import { CONFIG } from '../infra/tokens';
import { AuthRepository } from './auth.repository';
import { MfaRepository } from './mfa.repository';
import { PasskeyRepository } from './passkey.repository';
import { SecondFactorService } from './second-factor.service';
import { ThrottleService } from './throttle.service';
import { MFA_CHALLENGE_TTL_SECONDS, TokenService } from './token.service';

export interface TokenPair {
  accessToken: string;
  tokenType: 'Bearer';
  expiresIn: number;
  refreshToken: string;
}

/** What a password login answers: tokens, or the step that must come before them. */
export type LoginResult =
  | (TokenPair & { status: 'authenticated' })
  | { status: 'mfa_required'; mfaToken: string; expiresIn: number; methods: SecondFactorKind[] }
  | { status: 'mfa_enrolment_required'; enrolmentToken: string; expiresIn: number; detail: string };

/** The ways an admin may complete a sign-in, as `mfa_required` lists them. */
export type SecondFactorKind = 'totp' | 'recovery_code' | 'passkey';

/**
 * One kind of second factor for `completeSecondFactor`: whether the user has it at all, and the
 * check of what the client sent. A false check counts toward the lockout.
 */
export interface SecondFactorCheck {
  available(user: AdminUser): Promise<boolean>;
  verify(user: AdminUser): Promise<boolean>;
}

/** The client of a request, kept with the session it starts. */
export interface ClientInfo {
  ip: string;
  userAgent: string | null;
}

const INVALID_LOGIN = 'Invalid email or password.';
const INVALID_REFRESH = 'The refresh token is invalid, expired or already used; log in again.';
const INVALID_CODE = 'The code is wrong, expired or already used.';
const ENROL_FIRST =
  'Your organisation requires two-factor sign-in. Set it up with this enrolment token ' +
  '(POST /v1/auth/mfa/totp/start, then POST /v1/auth/mfa/totp/confirm; or a passkey with ' +
  'POST /v1/auth/mfa/passkeys/registration/options, then POST /v1/auth/mfa/passkeys); it reaches no other route.';

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
    private readonly mfa: MfaRepository,
    private readonly passkeys: PasskeyRepository,
    private readonly secondFactor: SecondFactorService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  /**
   * The password step. With TOTP enabled it answers a challenge to complete with a code; under
   * a policy requiring 2FA without it, an enrolment-only token. The account's failure count is
   * cleared only when the whole sign-in succeeds, so a known password does not reset the count
   * of wrong codes.
   */
  async login(emailInput: string, password: string, client: ClientInfo): Promise<LoginResult> {
    const { ip } = client;
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
    // A hash from older parameters (argon2's defaults: 64 MiB, t=3, p=4) verified: store the
    // password again at today's, so the next login costs what it should.
    const rehashed = passwordNeedsRehash(user.passwordHash)
      ? await withPasswordHashSlot(() => argon2.hash(password, PASSWORD_HASH_OPTIONS))
      : undefined;
    const methods = await this.secondFactors(user);
    if (methods.length > 0) {
      if (rehashed) await this.auth.updatePasswordHash(user.id, rehashed);
      return {
        status: 'mfa_required',
        mfaToken: this.tokens.signMfaChallenge(user.id),
        expiresIn: MFA_CHALLENGE_TTL_SECONDS,
        methods,
      };
    }
    await this.throttle.clearAccount(email);
    await this.auth.recordLogin(user.id, new Date(), rehashed);
    if (await this.mfa.policyRequires(user.id)) {
      return {
        status: 'mfa_enrolment_required',
        enrolmentToken: this.tokens.signEnrolment(user.id),
        expiresIn: this.tokens.accessTtlSeconds,
        detail: ENROL_FIRST,
      };
    }
    return { status: 'authenticated', ...(await this.startSession(user.id, client)) };
  }

  /**
   * The second step: a TOTP code or a recovery code for a challenge from `login`. Wrong codes
   * count toward the account's lockout exactly as wrong passwords do.
   */
  completeMfa(mfaToken: string, code: string, client: ClientInfo): Promise<TokenPair> {
    return this.completeSecondFactor(mfaToken, client, {
      available: (user) => Promise.resolve(user.totpEnabledAt !== null),
      verify: async (user) => (await this.secondFactor.verify(user, code, client.ip)) !== null,
    });
  }

  /**
   * Completes a challenge from `login` with one kind of second factor (a code above, a passkey
   * in PasskeyService): the same lockout, the same failure answer and the same session for each.
   */
  async completeSecondFactor(mfaToken: string, client: ClientInfo, check: SecondFactorCheck): Promise<TokenPair> {
    const userId = this.tokens.verifyMfaChallenge(mfaToken);
    const user = await this.auth.findUserById(userId);
    if (!user || user.disabled || !(await check.available(user))) throw new Unauthenticated(INVALID_LOGIN);
    await this.throttle.assertMayTry(client.ip, user.email);
    if (user.lockedUntil !== null && user.lockedUntil > new Date()) {
      const seconds = Math.ceil((user.lockedUntil.getTime() - Date.now()) / 1000);
      throw new RateLimited('Too many failed logins for this account; try again later.', seconds);
    }
    if (!(await check.verify(user))) {
      await this.recordCodeFailure(user, client.ip);
      throw new Unauthenticated(INVALID_CODE);
    }
    await this.throttle.clearAccount(user.email);
    await this.auth.recordLogin(user.id, new Date());
    return this.startSession(user.id, client);
  }

  /** @throws RateLimited when the account or address has failed too often lately (as at sign-in) */
  async assertMayTry(user: AdminUser, ip: string): Promise<void> {
    await this.throttle.assertMayTry(ip, user.email);
  }

  /** The second factors the user has set up, in the order `mfa_required` lists them. */
  async secondFactors(user: Pick<AdminUser, 'id' | 'totpEnabledAt'>): Promise<SecondFactorKind[]> {
    const methods: SecondFactorKind[] = user.totpEnabledAt !== null ? ['totp', 'recovery_code'] : [];
    if ((await this.passkeys.countByUser(user.id)) > 0) methods.push('passkey');
    return methods;
  }

  /** A wrong second factor from a signed-in admin (disable, regenerate): counts like a wrong password. */
  async recordCodeFailure(user: AdminUser, ip: string): Promise<void> {
    const failures = await this.throttle.recordFailure(ip, user.email);
    await this.recordUserFailure(user.id, failures);
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
  async refresh(token: string, client: ClientInfo): Promise<TokenPair> {
    const { ip } = client;
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
    // A policy that came after this login: the session ends, and signing in again leads to enrolment.
    if ((await this.secondFactors(row.user)).length === 0 && (await this.mfa.policyRequires(row.userId))) {
      await this.revokeFamily(row.familyId);
      throw new Unauthenticated('Your organisation now requires two-factor sign-in; sign in again to set it up.');
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
      userAgent: client.userAgent,
    });
    return {
      accessToken: this.tokens.signAccess(row.userId, row.familyId),
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

  /** A new session (refresh token family) for a user who has passed every factor. */
  async startSession(userId: string, client: ClientInfo): Promise<TokenPair> {
    const familyId = randomUUID();
    const refresh = this.tokens.newRefreshToken();
    await this.auth.createRefreshToken({
      userId,
      familyId,
      tokenHash: refresh.hash,
      expiresAt: this.refreshExpiry(),
      createdIp: client.ip,
      userAgent: client.userAgent,
    });
    return {
      accessToken: this.tokens.signAccess(userId, familyId),
      tokenType: 'Bearer',
      expiresIn: this.tokens.accessTtlSeconds,
      refreshToken: refresh.token,
    };
  }
}
