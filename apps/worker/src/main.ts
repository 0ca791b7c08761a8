import cluster from 'node:cluster';
import { loadConfigOrExit } from '@mailroom/config';
import { closeDatabase, openDatabase, pingDatabase } from '@mailroom/db';
import { createLogger } from '@mailroom/logger';
import { MailStore, configureBlobStore } from '@mailroom/mailstore';
import { createMetricsRegistry, onShutdown, runHealthChecks, serveClusterWorker, startOpsServer } from '@mailroom/ops';
import { cachingResolver, createNodeResolver, DnsCache } from '@mailroom/dns';
import { createRedis, JobProducer, pingRedis } from '@mailroom/queue';
import { DeliveryAgent } from './delivery/delivery-agent';
import { deliveryHandlers } from './processors/deliveries.processor';
import { domainHandlers } from './processors/domains.processor';
import { createMaintenanceMetrics } from './maintenance/job-run';
import { maintenanceHandlers } from './processors/maintenance.processor';
import { messageHandlers } from './processors/messages.processor';
import { purgeHandlers } from './processors/purge.processor';
import { retentionHandlers } from './processors/retention.processor';
import { storageHandlers } from './processors/storage.processor';
import { webhookHandlers } from './processors/webhooks.processor';
import { startWorkers } from './worker';
import { runWorkerPrimary } from './worker-cluster';

async function main(): Promise<void> {
  const config = loadConfigOrExit('worker');
  const logger = createLogger('worker', config);
  if (config.WORKER_PROCESSES > 1 && cluster.isPrimary) {
    return runWorkerPrimary(config, logger, config.WORKER_PROCESSES);
  }
  configureBlobStore(config);
  const prisma = openDatabase({
    url: config.DATABASE_URL,
    poolSize: config.DATABASE_POOL_SIZE,
    applicationName: 'mailroom-worker',
  });
  const probe = createRedis(config, 'probe');
  probe.on('error', () => undefined);
  const registry = createMetricsRegistry('worker');
  const producerConnection = createRedis(config, 'worker');
  producerConnection.on('error', () => undefined);
  const producer = new JobProducer(producerConnection, config.QUEUE_PREFIX);
  const resolver = createNodeResolver(config.DNS_SERVERS, config.DNS_TIMEOUT_MS);
  // Delivery's MX, MTA-STS and address lookups go through the in-process cache; the domain
  // checks ask DNS itself every time (a fix must show at once).
  const deliveryResolver = cachingResolver(resolver, new DnsCache({ ttlSeconds: config.DNS_CACHE_TTL_SECONDS }));
  const delivery = new DeliveryAgent(prisma, config, deliveryResolver);
  const maintenance = { prisma, metrics: createMaintenanceMetrics(registry), logger };
  const handlers = {
    ...maintenanceHandlers({ prisma, config, agent: delivery, producer, metrics: maintenance.metrics }),
    ...retentionHandlers(maintenance),
    ...purgeHandlers(maintenance),
    ...storageHandlers(
      maintenance,
      { graceMs: config.BLOB_GC_GRACE_MINUTES * 60_000 },
      { minAgeHours: config.BLOB_SWEEP_MIN_AGE_HOURS },
    ),
    ...domainHandlers(prisma, config, resolver, producer),
    ...webhookHandlers(prisma, config, producer),
    ...deliveryHandlers(delivery, producer),
    ...messageHandlers(new MailStore(prisma)),
  };
  const runtime = await startWorkers(config, logger, handlers, registry);
  const checks = { database: () => pingDatabase(prisma), redis: () => pingRedis(probe) };
  // A cluster worker: the primary serves /health and /metrics from what its workers answer.
  const ops = cluster.isWorker
    ? null
    : await startOpsServer({ host: config.HEALTH_HOST, port: config.WORKER_HEALTH_PORT, registry, checks });
  // In a worker: answers the primary's health questions and says it is running.
  if (cluster.isWorker) serveClusterWorker(registry, () => runHealthChecks(checks), undefined);
  else logger.info({ queues: [...runtime.queues.keys()], health: ops?.port }, 'worker running');
  onShutdown(logger, async () => {
    await runtime.close();
    delivery.close();
    await producer.close();
    producerConnection.disconnect();
    await ops?.close();
    probe.disconnect();
    await closeDatabase(prisma);
  });
}

main().catch((err: unknown) => {
  process.stderr.write(`worker: failed to start: ${err instanceof Error ? err.stack : String(err)}\n`);
  process.exit(1);
});
