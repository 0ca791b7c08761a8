import fs from 'node:fs';
import path from 'node:path';
import dotenv from 'dotenv';
import { configSchema, type Config } from './config.schema';

/** One problem per variable, each a line an operator can act on. */
export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(problems.join('\n'));
    this.name = 'ConfigError';
  }
}

/**
 * Parses settings from `env` (default: the process environment, over `.env` in the working
 * directory, which never overrides a variable that is already set).
 * @throws ConfigError naming each invalid or missing variable
 */
export function loadConfig(env?: Record<string, string | undefined>): Config {
  const source = env ?? withDotenv(process.env);
  // Blank values count as unset, so `FOO=` in .env falls back to the default.
  const cleaned = Object.fromEntries(Object.entries(source).filter(([, v]) => v !== undefined && v !== ''));
  const result = configSchema.safeParse(cleaned);
  // One of the two Redis settings is needed; the schema cannot say so per variable.
  const noRedis = cleaned.REDIS_URL === undefined && cleaned.REDIS_CLUSTER_NODES === undefined;
  const redisProblem = 'REDIS_URL: required: a redis:// URL (or REDIS_CLUSTER_NODES for a Redis Cluster)';
  if (!result.success || noRedis) {
    const seen = new Set<string>();
    const problems: string[] = noRedis ? [redisProblem] : [];
    for (const issue of result.error?.issues ?? []) {
      const name = String(issue.path[0] ?? 'config');
      if (seen.has(name)) continue;
      seen.add(name);
      problems.push(`${name}: ${issue.message}`);
    }
    throw new ConfigError(problems);
  }
  const config = result.data;
  if (config.BLOB_STORE === 's3' && !config.S3_BUCKET) {
    throw new ConfigError(['S3_BUCKET: required when BLOB_STORE=s3']);
  }
  if (config.NODE_ENV === 'production' && (!config.TLS_CERT_PATH || !config.TLS_KEY_PATH)) {
    throw new ConfigError([
      'TLS_CERT_PATH: required in production (with TLS_KEY_PATH); a self-signed pair is made only for development',
    ]);
  }
  return config;
}

function withDotenv(env: NodeJS.ProcessEnv): Record<string, string | undefined> {
  const file = path.resolve('.env');
  if (!fs.existsSync(file)) return env;
  const fromFile = dotenv.parse(fs.readFileSync(file));
  return { ...fromFile, ...env };
}

/** For an app's entry point: the config, or one line per problem on stderr and exit code 1. */
export function loadConfigOrExit(app: string): Config {
  try {
    return loadConfig();
  } catch (err) {
    if (err instanceof ConfigError) {
      for (const problem of err.problems) process.stderr.write(`${app}: invalid configuration: ${problem}\n`);
      process.exit(1);
    }
    throw err;
  }
}
