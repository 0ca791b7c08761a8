import { createHash, createSecretKey, hkdfSync, randomBytes, randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { JwtService } from '@nestjs/jwt';
import type { Config } from '@mailroom/config';
import { Unauthenticated } from '@mailroom/core';
import { CONFIG } from '../infra/tokens';

export interface AccessClaims {
  sub: string;
  typ: 'access';
}

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

  signAccess(userId: string): string {
    const claims: AccessClaims = { sub: userId, typ: 'access' };
    return this.jwt.sign(claims, { jwtid: randomUUID() });
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
