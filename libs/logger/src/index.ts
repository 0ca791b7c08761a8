import pino, { type Logger, type LoggerOptions } from 'pino';
import type { Config } from '@mailroom/config';

/**
 * Paths whose values never reach a log line: credentials in requests, SMTP AUTH, keys.
 * pino's redaction runs on every line, so a forgotten field cannot leak through a child logger.
 */
export const REDACTED_PATHS = [
  'password',
  '*.password',
  'newPassword',
  '*.newPassword',
  'passwordHash',
  '*.passwordHash',
  'token',
  '*.token',
  'refreshToken',
  '*.refreshToken',
  'accessToken',
  '*.accessToken',
  'apiKey',
  '*.apiKey',
  'secret',
  '*.secret',
  'privateKey',
  '*.privateKey',
  'MASTER_KEY',
  '*.MASTER_KEY',
  'req.headers.authorization',
  'req.headers.cookie',
  'res.headers["set-cookie"]',
  'auth.password',
  'auth.accessToken',
];

export type { Logger };

/** The JSON logger of an app; `app` is in every line. */
export function createLogger(app: string, config: Pick<Config, 'LOG_LEVEL'>, options: LoggerOptions = {}): Logger {
  return pino({
    name: app,
    level: config.LOG_LEVEL,
    redact: { paths: REDACTED_PATHS, censor: '[redacted]' },
    base: { app, pid: process.pid },
    timestamp: pino.stdTimeFunctions.isoTime,
    ...options,
  });
}
