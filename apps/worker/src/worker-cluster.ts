import type { Logger } from 'pino';
import type { Config } from '@mailroom/config';
import { runClusterPrimary } from '@mailroom/ops';

/**
 * WORKER_PROCESSES above 1: the process forks that many job workers (node:cluster), each a
 * whole worker (its BullMQ workers with WORKER_CONCURRENCY jobs per queue, its database pool,
 * its destination slots and SMTP session cache), as replicas on other machines would be; they
 * take jobs from the same Redis queues. A delivery job mostly waits on round trips (PostgreSQL,
 * Redis, the remote's SMTP replies) and one Node process runs its JavaScript on one core, so a
 * process per core delivers more, as Postfix runs many delivery processes. The primary runs no
 * job: it answers /health (every worker's checks) and /metrics (the workers' metrics summed),
 * restarts a worker that dies, and stops them on SIGTERM. A dead worker's jobs in flight go back
 * to the queue after BullMQ's stalled check; its claims after the stuck-row sweep.
 */

/** Runs the primary: forks `workers`, serves /health and /metrics, stops them on SIGTERM. */
export async function runWorkerPrimary(config: Config, logger: Logger, workers: number): Promise<void> {
  const primary = await runClusterPrimary<undefined>({
    workers,
    logger,
    host: config.HEALTH_HOST,
    port: config.WORKER_HEALTH_PORT,
    diedMessage: 'worker process died; starting another',
    startFailedMessage: 'a worker process exited while starting',
  });
  logger.info({ health: primary.healthPort, workers }, 'worker running');
}
