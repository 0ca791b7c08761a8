import { loadConfigOrExit, loadTls } from '@mailroom/config';
import { closeDatabase, openDatabase, pingDatabase } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import { createMetricsRegistry, onShutdown, startOpsServer } from '@mailroom/ops';
import { createRedis, JobName, JobProducer, pingRedis } from '@mailroom/queue';
import { startMta } from './mta';

async function main(): Promise<void> {
  const config = loadConfigOrExit('mta');
  const logger = createLogger('mta', config);
  const prisma = openDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'mailroom-mta',
  });
  const redis = createRedis(config, 'probe');
  redis.on('error', () => undefined);
  const queueRedis = createRedis(config, 'client');
  queueRedis.on('error', () => undefined);
  const producer = new JobProducer(queueRedis, config.QUEUE_PREFIX);
  const tls = await loadTls(config);
  const mta = await startMta(config, {
    prisma,
    logger,
    tls,
    // After commit, queue a job per delivery. If Redis refuses, nothing is lost: the worker's
    // sweep finds queued deliveries in PostgreSQL within SWEEP_INTERVAL_MS.
    onQueued: async (deliveries) => {
      for (const d of deliveries) await producer.add(JobName.DeliverySend, d);
    },
  });
  const ops = await startOpsServer({
    host: config.HEALTH_HOST,
    port: config.MTA_HEALTH_PORT,
    registry: createMetricsRegistry('mta'),
    checks: { database: () => pingDatabase(prisma), redis: () => pingRedis(redis) },
  });
  logger.info({ ...mta.ports, health: ops.port }, 'mta listening');
  onShutdown(logger, async () => {
    await mta.close();
    await ops.close();
    await producer.close();
    queueRedis.disconnect();
    redis.disconnect();
    await closeDatabase(prisma);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`mta: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
