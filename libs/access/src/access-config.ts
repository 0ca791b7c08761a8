import type { Config } from '@mailroom/config';
import type { Logger } from 'pino';
import type { AccessOptions } from './access-authenticator';
import { appPasswordKey } from './app-password';
import { authCacheSecret } from './auth-cache';
import type { LoginThrottleOptions } from './login-throttle';

/** Slow-down of failed logins; no settings in libs/config (tests lower them). */
export interface LoginTuning {
  slowDownAfter: number;
  delayStepMs: number;
  maxDelayMs: number;
}

export const DEFAULT_LOGIN_TUNING: LoginTuning = { slowDownAfter: 3, delayStepMs: 1_000, maxDelayMs: 5_000 };

/** The lockout every login path shares (SMTP AUTH, IMAP, POP3). */
export function loginThrottleOptions(config: Config, tuning: Partial<LoginTuning> = {}): LoginThrottleOptions {
  return {
    maxFailures: config.LOGIN_MAX_FAILURES,
    maxFailuresPerIp: config.LOGIN_MAX_FAILURES_PER_IP,
    windowMs: config.LOGIN_LOCK_MINUTES * 60_000,
    ...DEFAULT_LOGIN_TUNING,
    ...tuning,
  };
}

/** AccessAuthenticator options from the config: cache size and TTL, keys derived from MASTER_KEY. */
export function accessOptions(config: Config, logger?: Logger): AccessOptions {
  return {
    cacheSize: config.AUTH_CACHE_SIZE,
    cacheTtlMs: config.AUTH_CACHE_TTL_SECONDS * 1_000,
    cacheSecret: authCacheSecret(config.MASTER_KEY),
    appPasswordKey: appPasswordKey(config.MASTER_KEY),
    ...(logger ? { logger } : {}),
  };
}
