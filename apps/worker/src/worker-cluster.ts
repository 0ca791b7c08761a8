import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from '@mailroom/config';
import { onShutdown, startOpsServer, type HealthReport } from '@mailroom/ops';

/**
 * WORKER_PROCESSES above 1: the process forks that many job workers (node:cluster), each a
 * whole worker (its BullMQ workers with WORKER_CONCURRENCY jobs per queue, its database pool,
 * its destination slots and SMTP session cache), as replicas on other machines would be; they
 * take jobs from the same Redis queues. A delivery job mostly waits on round trips (PostgreSQL,
 * Redis, the remote's SMTP replies) and one Node process runs its JavaScript on one core, so a
 * process per core delivers more, as Postfix runs many delivery processes. The primary runs no
 * job: it answers /health (every worker's checks) and /metrics (the workers' metrics summed),
 * restarts a worker that dies, and stops them on SIGTERM.
 */

type ToPrimary = { t: 'health-answer'; id: number; report: HealthReport } | { t: 'ready' };
type ToWorker = { t: 'health'; id: number };

function isMessage<T extends { t: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

function send(m: ToPrimary): void {
  if (process.send && process.connected) process.send(m);
}

/** In a worker: answers the primary's health questions and says it is running. */
export function serveAsClusterWorker(registry: Registry, health: () => Promise<HealthReport>): void {
  // Constructing one is what makes prom-client answer the primary's metrics requests here.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  process.on('message', (m: unknown) => {
    if (isMessage<ToWorker>(m) && m.t === 'health') {
      void health().then((report) => send({ t: 'health-answer', id: m.id, report }));
    }
  });
  send({ t: 'ready' });
}

/** Runs the primary: forks `workers`, serves /health and /metrics, stops them on SIGTERM. */
export async function runWorkerPrimary(config: Config, logger: Logger, workers: number): Promise<void> {
  const healthWaits = new Map<number, (report: HealthReport) => void>();
  let healthId = 0;
  let stopping = false;
  let started = false;
  const starts: number[] = [];
  let readyCount = 0;
  let readyResolve: (() => void) | null = null;
  let readyReject: ((err: Error) => void) | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });

  const fork = () => {
    starts.push(Date.now());
    cluster.fork();
  };
  cluster.on('message', (_worker: Worker, m: unknown) => {
    if (!isMessage<ToPrimary>(m)) return;
    if (m.t === 'health-answer') {
      healthWaits.get(m.id)?.(m.report);
      healthWaits.delete(m.id);
    } else if (m.t === 'ready' && ++readyCount === workers) {
      started = true;
      readyResolve?.();
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    if (!started) {
      readyReject?.(new Error(`a worker process exited while starting (code ${code}, signal ${signal})`));
      return;
    }
    // A worker that keeps dying is not restarted in a tight loop. Its jobs in flight go back
    // to the queue after BullMQ's stalled check; its claims after the stuck-row sweep.
    const recent = starts.filter((at) => at > Date.now() - 60_000).length;
    logger.error({ pid: worker.process.pid, code, signal }, 'worker process died; starting another');
    setTimeout(fork, recent > workers * 3 ? 5_000 : 500).unref();
  });

  for (let i = 0; i < workers; i++) fork();
  try {
    await ready;
  } catch (err) {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    throw err;
  }

  const live = () => Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
  const health = async (): Promise<HealthReport> => {
    const asked = live().map(
      (w) =>
        new Promise<HealthReport | null>((resolve) => {
          const id = ++healthId;
          const timer = setTimeout(() => {
            healthWaits.delete(id);
            resolve(null);
          }, 3_000);
          healthWaits.set(id, (report) => {
            clearTimeout(timer);
            resolve(report);
          });
          w.send({ t: 'health', id } satisfies ToWorker);
        }),
    );
    const reports = await Promise.all(asked);
    const report: HealthReport = { status: 'ok', info: {}, error: {}, details: {} };
    const mark = (name: string, up: boolean) => {
      const before = report.details[name]?.status;
      const status = up && before !== 'down' ? 'up' : 'down';
      report.details[name] = { status };
      delete report.info[name];
      delete report.error[name];
      if (status === 'up') report.info[name] = { status: 'up' };
      else {
        report.error[name] = { status: 'down' };
        report.status = 'error';
      }
    };
    mark('workers', reports.length === workers && reports.every((r) => r !== null));
    for (const r of reports) for (const [name, d] of Object.entries(r?.details ?? {})) mark(name, d.status === 'up');
    return report;
  };
  const aggregator = new AggregatorRegistry<typeof Registry.PROMETHEUS_CONTENT_TYPE>();
  const ops = await startOpsServer({
    host: config.HEALTH_HOST,
    port: config.WORKER_HEALTH_PORT,
    registry: aggregator,
    checks: {},
    health,
    metrics: () => aggregator.clusterMetrics(),
  });
  logger.info({ health: ops.port, workers }, 'worker running');
  onShutdown(logger, async () => {
    stopping = true;
    const exits = live().map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
    for (const w of live()) w.kill('SIGTERM');
    await Promise.all(exits);
    await ops.close();
  });
}
