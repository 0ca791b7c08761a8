import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import { startOpsServer, type HealthReport, type OpsServer } from './health';
import { onShutdown } from './shutdown';

/**
 * The node:cluster primary that the worker (WORKER_PROCESSES) and the IMAP server (IMAP_WORKERS)
 * share: it forks the workers and waits for each to say it is ready, restarts one that dies,
 * answers /health from every worker's checks and /metrics with their metrics summed, and stops
 * them on SIGTERM. What an app's primary does besides (IMAP counts connections per IP across
 * workers) it does in the hooks, with messages of its own beside these.
 */

/** The health and ready protocol; an app's own messages carry other `t` values. */
type ToPrimary<D> = { t: 'ready'; data: D } | { t: 'health-answer'; id: number; report: HealthReport };
type ToWorker = { t: 'health'; id: number };

/** A worker waits this long for an answer to a health question before it counts as down. */
const HEALTH_ANSWER_MS = 3_000;
/** Restart delays: at once, almost, unless more than workers × 3 started in the last minute. */
const RESTART_MS = 500;
const RESTART_BACKED_OFF_MS = 5_000;
const RESTART_WINDOW_MS = 60_000;

/** Whether an IPC message has the `{ t: ... }` shape the cluster messages share. */
export function isClusterMessage<T extends { t: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

function sendToPrimary<D>(m: ToPrimary<D>): void {
  if (process.send && process.connected) process.send(m);
}

/**
 * In a worker: answers the primary's health questions with `health()`, lets prom-client answer
 * its metrics requests from `registry`, and says it is ready, passing `data` to `onReady`.
 */
export function serveClusterWorker<D>(registry: Registry, health: () => Promise<HealthReport>, data: D): void {
  // Constructing one is what makes prom-client answer the primary's metrics requests here.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  process.on('message', (m: unknown) => {
    if (isClusterMessage<ToWorker>(m) && m.t === 'health') {
      void health().then((report) => sendToPrimary<D>({ t: 'health-answer', id: m.id, report }));
    }
  });
  sendToPrimary<D>({ t: 'ready', data });
}

/**
 * The cluster's health from its workers' reports (null: no answer in time): `workers` is up only
 * when all `workers` answered, and a check is down when any worker says it is down.
 */
export function mergeWorkerHealth(reports: ReadonlyArray<HealthReport | null>, workers: number): HealthReport {
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
}

export interface ClusterPrimaryOptions<D> {
  /** How many workers to fork and keep running. */
  workers: number;
  logger: Logger;
  /** Where /health and /metrics listen. */
  host: string;
  port: number;
  /** Logged when a worker dies after start-up and another is forked. */
  diedMessage: string;
  /** The start-up error when a worker exits before all are ready; its code and signal follow. */
  startFailedMessage: string;
  /** A worker is ready, with the `data` it gave `serveClusterWorker`. */
  onReady?: (worker: Worker, data: D) => void;
  /** A message that is not the health and ready protocol's: the app's own. */
  onMessage?: (worker: Worker, message: { t: string }) => void;
  /** A worker exited, while running or while stopping, before any restart. */
  onExit?: (worker: Worker) => void;
}

export interface ClusterPrimary {
  /** The port /health and /metrics listen on. */
  healthPort: number;
}

/**
 * Runs the primary: forks `workers` and resolves once all are ready and /health and /metrics
 * listen (rejects, stopping them, if one exits first); restarts a worker that dies; on SIGTERM
 * stops the workers, waits for their exits and closes the ops server.
 */
export async function runClusterPrimary<D>(options: ClusterPrimaryOptions<D>): Promise<ClusterPrimary> {
  const { workers, logger } = options;
  const healthWaits = new Map<number, (report: HealthReport) => void>();
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
  cluster.on('message', (worker: Worker, m: unknown) => {
    if (!isClusterMessage<{ t: string }>(m)) return;
    if (!isProtocol<D>(m)) {
      options.onMessage?.(worker, m);
    } else if (m.t === 'health-answer') {
      healthWaits.get(m.id)?.(m.report);
      healthWaits.delete(m.id);
    } else {
      options.onReady?.(worker, m.data);
      if (++readyCount === workers) {
        started = true;
        readyResolve?.();
      }
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    options.onExit?.(worker);
    if (stopping) return;
    if (!started) {
      readyReject?.(new Error(`${options.startFailedMessage} (code ${code}, signal ${signal})`));
      return;
    }
    // A worker that keeps dying is not restarted in a tight loop.
    const recent = starts.filter((at) => at > Date.now() - RESTART_WINDOW_MS).length;
    logger.error({ pid: worker.process.pid, code, signal }, options.diedMessage);
    setTimeout(fork, recent > workers * 3 ? RESTART_BACKED_OFF_MS : RESTART_MS).unref();
  });

  for (let i = 0; i < workers; i++) fork();
  try {
    await ready;
  } catch (err) {
    stopping = true;
    for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
    throw err;
  }

  const ops = await startClusterOpsServer(options, healthWaits);
  onShutdown(logger, async () => {
    stopping = true;
    const exits = live().map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
    for (const w of live()) w.kill('SIGTERM');
    await Promise.all(exits);
    await ops.close();
  });
  return { healthPort: ops.port };
}

/** A worker runs the same build as its primary, so a 'ready' carries the D it was given. */
function isProtocol<D>(m: { t: string }): m is ToPrimary<D> {
  return m.t === 'ready' || m.t === 'health-answer';
}

function live(): Worker[] {
  return Object.values(cluster.workers ?? {}).filter((w): w is Worker => !!w && w.isConnected());
}

/** /health asks every live worker (HEALTH_ANSWER_MS each) and merges; /metrics sums theirs. */
function startClusterOpsServer<D>(
  options: ClusterPrimaryOptions<D>,
  healthWaits: Map<number, (report: HealthReport) => void>,
): Promise<OpsServer> {
  let healthId = 0;
  const ask = (w: Worker) =>
    new Promise<HealthReport | null>((resolve) => {
      const id = ++healthId;
      const timer = setTimeout(() => {
        healthWaits.delete(id);
        resolve(null);
      }, HEALTH_ANSWER_MS);
      healthWaits.set(id, (report) => {
        clearTimeout(timer);
        resolve(report);
      });
      w.send({ t: 'health', id } satisfies ToWorker);
    });
  const aggregator = new AggregatorRegistry<typeof Registry.PROMETHEUS_CONTENT_TYPE>();
  return startOpsServer({
    host: options.host,
    port: options.port,
    registry: aggregator,
    checks: {},
    health: async () => mergeWorkerHealth(await Promise.all(live().map(ask)), options.workers),
    metrics: () => aggregator.clusterMetrics(),
  });
}
