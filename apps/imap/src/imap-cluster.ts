import cluster, { type Worker } from 'node:cluster';
import type { Logger } from 'pino';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from '@mailroom/config';
import { onShutdown, startOpsServer, type HealthReport } from '@mailroom/ops';
import { normalise, type ConnectionGate, type Release } from './connections-per-ip';

/**
 * IMAP_WORKERS above 1: the process forks that many workers (node:cluster), each a whole access
 * server (IMAP, POP3, its LISTEN connection, its auth cache, its database pool); the listening
 * ports are shared and the kernel's accepts are handed round-robin. Like Dovecot's process per
 * session, it lets one machine's cores serve FETCH in parallel. The primary holds no session:
 * it counts connections per IP for all workers, answers /health (every worker's checks) and
 * /metrics (the workers' metrics summed), restarts a worker that dies, and stops them on SIGTERM.
 */

type Pool = 'imap' | 'pop3';
type ToPrimary =
  | { t: 'gate-acquire'; id: number; pool: Pool; ip: string }
  | { t: 'gate-release'; pool: Pool; ip: string }
  | { t: 'health-answer'; id: number; report: HealthReport }
  | { t: 'ready'; ports: Record<string, number> };
type ToWorker = { t: 'gate-answer'; id: number; ok: boolean } | { t: 'health'; id: number };

function isMessage<T extends { t: string }>(m: unknown): m is T {
  return typeof m === 'object' && m !== null && typeof (m as { t?: unknown }).t === 'string';
}

// ---- worker side

let nextId = 0;
const answers = new Map<number, (ok: boolean) => void>();
let healthOf: (() => Promise<HealthReport>) | null = null;
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('message', (m: unknown) => {
    if (!isMessage<ToWorker>(m)) return;
    if (m.t === 'gate-answer') {
      answers.get(m.id)?.(m.ok);
      answers.delete(m.id);
    } else if (m.t === 'health' && healthOf) {
      void healthOf().then((report) => send({ t: 'health-answer', id: m.id, report }));
    }
  });
}

function send(m: ToPrimary): boolean {
  if (!process.send || !process.connected) return false;
  process.send(m);
  return true;
}

/** In a worker: connections per IP counted by the primary, across every worker. */
export class ClusterConnectionGate implements ConnectionGate {
  constructor(
    private readonly pool: Pool,
    readonly limit: number,
  ) {
    listen();
  }

  acquire(remoteAddress: string | undefined): Promise<Release | null> {
    const ip = normalise(remoteAddress);
    const id = ++nextId;
    return new Promise((resolve) => {
      const release: Release = (() => {
        let done = false;
        return () => {
          if (done) return;
          done = true;
          send({ t: 'gate-release', pool: this.pool, ip });
        };
      })();
      answers.set(id, (ok) => resolve(ok ? release : null));
      // Without the primary (it is going away) the connection is let in: it is stopping anyway.
      if (!send({ t: 'gate-acquire', id, pool: this.pool, ip })) {
        answers.delete(id);
        resolve(() => undefined);
      }
    });
  }
}

/** In a worker: what the primary asks for (health), and that this worker is listening. */
export function serveAsWorker(registry: Registry, health: () => Promise<HealthReport>, ports: Record<string, number>) {
  // Constructing one is what makes prom-client answer the primary's metrics requests here.
  new AggregatorRegistry();
  AggregatorRegistry.setRegistries([registry]);
  healthOf = health;
  listen();
  send({ t: 'ready', ports });
}

// ---- primary side

/** Runs the primary: forks `workers`, serves /health and /metrics, stops them on SIGTERM. */
export async function runPrimary(config: Config, logger: Logger, workers: number): Promise<void> {
  const limits: Record<Pool, number> = {
    imap: config.IMAP_MAX_CONNECTIONS_PER_IP,
    pop3: config.POP3_MAX_CONNECTIONS_PER_IP,
  };
  const open = new Map<string, number>();
  const held = new Map<number, Map<string, number>>();
  const count = (worker: Worker, key: string, delta: number) => {
    open.set(key, (open.get(key) ?? 0) + delta);
    if ((open.get(key) ?? 0) <= 0) open.delete(key);
    const mine = held.get(worker.id) ?? new Map<string, number>();
    held.set(worker.id, mine);
    mine.set(key, (mine.get(key) ?? 0) + delta);
    if ((mine.get(key) ?? 0) <= 0) mine.delete(key);
  };
  const healthWaits = new Map<number, (report: HealthReport) => void>();
  let healthId = 0;
  let stopping = false;
  let ports: Record<string, number> | null = null;
  const starts: number[] = [];
  let readyResolve: (() => void) | null = null;
  let readyReject: ((err: Error) => void) | null = null;
  const ready = new Promise<void>((resolve, reject) => {
    readyResolve = resolve;
    readyReject = reject;
  });
  let readyCount = 0;

  const fork = () => {
    starts.push(Date.now());
    cluster.fork();
  };
  cluster.on('message', (worker: Worker, m: unknown) => {
    if (!isMessage<ToPrimary>(m)) return;
    if (m.t === 'gate-acquire') {
      const key = `${m.pool} ${m.ip}`;
      const ok = (open.get(key) ?? 0) < limits[m.pool];
      if (ok) count(worker, key, 1);
      worker.send({ t: 'gate-answer', id: m.id, ok } satisfies ToWorker);
    } else if (m.t === 'gate-release') {
      const key = `${m.pool} ${m.ip}`;
      if ((held.get(worker.id)?.get(key) ?? 0) > 0) count(worker, key, -1);
    } else if (m.t === 'health-answer') {
      healthWaits.get(m.id)?.(m.report);
      healthWaits.delete(m.id);
    } else if (m.t === 'ready') {
      ports ??= m.ports;
      if (++readyCount === workers) readyResolve?.();
    }
  });
  cluster.on('exit', (worker, code, signal) => {
    // Its connections are gone with it.
    for (const [key, n] of held.get(worker.id) ?? []) count(worker, key, -n);
    held.delete(worker.id);
    if (stopping) return;
    if (!ports) {
      readyReject?.(new Error(`an imap worker exited while starting (code ${code}, signal ${signal})`));
      return;
    }
    // A worker that keeps dying is not restarted in a tight loop.
    const recent = starts.filter((at) => at > Date.now() - 60_000).length;
    logger.error({ pid: worker.process.pid, code, signal }, 'imap worker died; starting another');
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
    port: config.IMAP_HEALTH_PORT,
    registry: aggregator,
    checks: {},
    health,
    metrics: () => aggregator.clusterMetrics(),
  });
  logger.info({ ...(ports ?? {}), health: ops.port, workers }, 'imap listening');
  onShutdown(logger, async () => {
    stopping = true;
    const exits = live().map((w) => new Promise<void>((resolve) => w.once('exit', () => resolve())));
    for (const w of live()) w.kill('SIGTERM');
    await Promise.all(exits);
    await ops.close();
  });
}
