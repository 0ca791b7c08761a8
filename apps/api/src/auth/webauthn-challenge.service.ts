import { createHash } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Config } from '@mailroom/config';
import { RedisService } from '../infra/redis.service';
import { CONFIG } from '../infra/tokens';

/** How long a registration or sign-in ceremony may take; the browser's own timeout is 60 s. */
export const WEBAUTHN_CHALLENGE_TTL_SECONDS = 300;

/**
 * WebAuthn challenges, kept server-side in Redis until their one use (WebAuthn §13.4.3: a
 * challenge must not be accepted twice). GETDEL takes a challenge out as it is read, so of two
 * responses to one challenge only the first finds it. A registration challenge is keyed by the
 * user (a new one replaces the last); a sign-in challenge by the mfa challenge it belongs to.
 * Unlike the throttle these do not fail open: without Redis there is no passkey ceremony.
 */
@Injectable()
export class WebAuthnChallengeService {
  constructor(
    private readonly redis: RedisService,
    @Inject(CONFIG) private readonly config: Config,
  ) {}

  private key(kind: 'register' | 'login', subject: string): string {
    const hashed = createHash('sha256').update(subject).digest('base64url');
    return `${this.config.QUEUE_PREFIX}:webauthn:${kind}:${hashed}`;
  }

  async put(
    kind: 'register' | 'login',
    subject: string,
    value: { userId: string; challenge: string },
    ttlSeconds: number,
  ) {
    await this.redis.client.set(this.key(kind, subject), JSON.stringify(value), 'EX', Math.max(1, ttlSeconds));
  }

  /** The stored challenge, removed as it is read; null when none is waiting (used, replaced or expired). */
  async take(kind: 'register' | 'login', subject: string): Promise<{ userId: string; challenge: string } | null> {
    const raw = await this.redis.client.getdel(this.key(kind, subject));
    return raw === null ? null : (JSON.parse(raw) as { userId: string; challenge: string });
  }
}
