import { loadConfig, type Config } from '@mailroom/config';
import { sharedRedisEnv } from './redis-cluster';

/**
 * The worker's settings for delivery tests: the test database, the loopback DNS server, every
 * remote MX at `port` on 127.0.0.1, and short timeouts so hostile remotes fail fast.
 */
export function deliveryTestConfig(
  env: { databaseUrl: string; dnsPort: number; masterKey: Buffer; port: number },
  extra: Record<string, string> = {},
): Config {
  return loadConfig({
    DATABASE_URL: env.databaseUrl,
    ...sharedRedisEnv(),
    MX_HOSTNAME: 'mx.mailroom.test',
    MASTER_KEY: env.masterKey.toString('hex'),
    SMTP_DELIVERY_PORT: String(env.port),
    DNS_SERVERS: `127.0.0.1:${env.dnsPort}`,
    DELIVERY_CONNECT_TIMEOUT_MS: '1000',
    DELIVERY_SOCKET_TIMEOUT_MS: '1500',
    DELIVERY_SESSION_TIMEOUT_MS: '3000',
    ...extra,
  });
}
