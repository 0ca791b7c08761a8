import { loadConfigOrExit, loadTls } from '@mailroom/config';
import { closeDatabase, openDatabase, pingDatabase } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import cluster from 'node:cluster';
import { createMetricsRegistry, onShutdown, runHealthChecks, serveClusterWorker, startOpsServer } from '@mailroom/ops';
import { createRedis, pingRedis } from '@mailroom/queue';
import { startImapApp } from './imap-app';
import { runPrimary } from './imap-cluster';

async function main(): Promise<void> {
  const config = loadConfigOrExit('imap');
  const logger = createLogger('imap', config);
  if (config.IMAP_WORKERS > 1 && cluster.isPrimary) return runPrimary(config, logger, config.IMAP_WORKERS);
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
  const checks = { database: () => pingDatabase(prisma), redis: () => pingRedis(redis) };
  // A cluster worker: the primary serves /health and /metrics from what its workers answer.
  const ops = cluster.isWorker
    ? null
    : await startOpsServer({ host: config.HEALTH_HOST, port: config.IMAP_HEALTH_PORT, registry, checks });
  // In a worker: what the primary asks for (health), and that this worker is listening.
  if (cluster.isWorker) serveClusterWorker(registry, () => runHealthChecks(checks), app.ports);
  else logger.info({ ...app.ports, health: ops?.port }, 'imap listening');
  onShutdown(logger, async () => {
    await app.close();
    await ops?.close();
    redis.disconnect();
    await closeDatabase(prisma);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`imap: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
