import { loadConfigOrExit, loadTls } from '@mailroom/config';
import { closeDatabase, openDatabase, pingDatabase } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import { createMetricsRegistry, onShutdown, startOpsServer } from '@mailroom/ops';
import { createRedis, pingRedis } from '@mailroom/queue';
import { startImapApp } from './imap-app';

async function main(): Promise<void> {
  const config = loadConfigOrExit('imap');
  const logger = createLogger('imap', config);
  const prisma = openDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'mailroom-imap',
  });
  // Login throttle counters and the POP3 maildrop lock; they fail open while Redis is down.
  const redis = createRedis(config, 'client');
  redis.on('error', () => undefined);
  const tls = await loadTls(config);
  const registry = createMetricsRegistry('imap');
  const app = await startImapApp(config, { prisma, redis, logger, tls, registry });
  const ops = await startOpsServer({
    host: config.HEALTH_HOST,
    port: config.IMAP_HEALTH_PORT,
    registry,
    checks: { database: () => pingDatabase(prisma), redis: () => pingRedis(redis) },
  });
  logger.info({ ...app.ports, health: ops.port }, 'imap listening');
  onShutdown(logger, async () => {
    await app.close();
    await ops.close();
    redis.disconnect();
    await closeDatabase(prisma);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`imap: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
