import { createHash, createSecretKey, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Config } from '@mailroom/config';
import { Unauthenticated } from '@mailroom/core';
import { CONFIG } from '../infra/tokens';

export interface AccessClaims {
  sub: string;
  typ: 'access';
  /** The login (refresh token family) the token belongs to: ending that session ends the token. */
  sid?: string;
  /** A token that only reaches the two-factor enrolment routes (a policy requires 2FA). */
  enr?: true;
}

interface MfaChallengeClaims {
  sub: string;
  typ: 'mfa';
}

/** How long a password-verified login waits for its second factor. */
export const MFA_CHALLENGE_TTL_SECONDS = 300;

/**
 * Access tokens (HS256 JWTs, short-lived) and refresh tokens (random, stored hashed). The JWT key
 * is derived from MASTER_KEY with HKDF, so there is one secret to manage.
 */
@Injectable()
export class TokenService {
  private readonly jwt: JwtService;

  constructor(@Inject(CONFIG) private readonly config: Config) {
    const key = Buffer.from(hkdfSync('sha256', config.MASTER_KEY, Buffer.alloc(0), 'mailroom jwt v1', 32));
    this.jwt = new JwtService({
      // A KeyObject, not the bytes: jsonwebtoken would otherwise try createPublicKey and then
      // createSecretKey on every verify (5% of the API's CPU on a list request).
      secret: createSecretKey(key),
      signOptions: { algorithm: 'HS256', expiresIn: config.ACCESS_TOKEN_TTL_SECONDS, issuer: 'mailroom' },
      verifyOptions: { algorithms: ['HS256'], issuer: 'mailroom' },
    });
  }

  get accessTtlSeconds(): number {
    return this.config.ACCESS_TOKEN_TTL_SECONDS;
  }

  signAccess(userId: string, sessionId: string): string {
    const claims: AccessClaims = { sub: userId, typ: 'access', sid: sessionId };
    return this.jwt.sign(claims, { jwtid: randomUUID() });
  }

  /** An access token good only for enrolling a second factor, with no session behind it. */
  signEnrolment(userId: string): string {
    const claims: AccessClaims = { sub: userId, typ: 'access', enr: true };
    return this.jwt.sign(claims, { jwtid: randomUUID() });
  }

  /** The proof that a password was right, to be completed with a second factor. */
  signMfaChallenge(userId: string): string {
    const claims: MfaChallengeClaims = { sub: userId, typ: 'mfa' };
    return this.jwt.sign(claims, { jwtid: randomUUID(), expiresIn: MFA_CHALLENGE_TTL_SECONDS });
  }

  /** @throws Unauthenticated for a malformed, forged or expired challenge */
  verifyMfaChallenge(token: string): string {
    try {
      const claims = this.jwt.verify<MfaChallengeClaims>(token);
      if (claims.typ !== 'mfa' || typeof claims.sub !== 'string') throw new Error('not a challenge');
      return claims.sub;
    } catch {
      throw new Unauthenticated('The sign-in challenge is invalid or expired; sign in with your password again.');
    }
  }

  /** Seconds until a (verified) sign-in challenge expires. */
  mfaChallengeSecondsLeft(token: string): number {
    const claims = this.jwt.decode<{ exp?: number } | null>(token);
    const exp = claims?.exp ?? Math.floor(Date.now() / 1000) + MFA_CHALLENGE_TTL_SECONDS;
    return Math.max(1, exp - Math.floor(Date.now() / 1000));
  }

  /** @throws Unauthenticated for a malformed, forged or expired token */
  verifyAccess(token: string): AccessClaims {
    try {
      const claims = this.jwt.verify<AccessClaims & { exp: number }>(token);
      if (claims.typ !== 'access' || typeof claims.sub !== 'string') throw new Error('not an access token');
      return claims;
    } catch {
      throw new Unauthenticated('The access token is invalid or expired; log in or refresh it.');
    }
  }

  newRefreshToken(): { token: string; hash: string } {
    const token = `rt_${randomBytes(32).toString('base64url')}`;
    return { token, hash: TokenService.hashRefresh(token) };
  }

  static hashRefresh(token: string): string {
    return createHash('sha256').update(token, 'utf8').digest('hex');
  }
}
