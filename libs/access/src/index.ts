export * from './access-types';
export { AccessAuthenticator, type AccessOptions } from './access-authenticator';
export { AccessEvents, ACCESS_CHANNEL, type AccessEventsOptions, type RevokedListener } from './access-events';
export { accessOptions, DEFAULT_LOGIN_TUNING, loginThrottleOptions, type LoginTuning } from './access-config';
export {
  APP_PASSWORD_PROTOCOLS,
  appPasswordKey,
  appPasswordLetters,
  appPasswordMatches,
  generateAppPassword,
  hashAppPassword,
  type NewAppPassword,
} from './app-password';
export { AuthCache, authCacheSecret, type CachedLogin } from './auth-cache';
export { LoginThrottle, type LoginThrottleOptions } from './login-throttle';
export { RedisCounters, type Counters } from './redis-counters';
export { pop3Settings } from './pop3-settings';
