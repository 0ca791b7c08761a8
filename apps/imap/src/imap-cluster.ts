import type { Worker } from 'node:cluster';
import type { Logger } from 'pino';
import type { Config } from '@mailroom/config';
import { isClusterMessage, runClusterPrimary } from '@mailroom/ops';
import { normalise, type ConnectionGate, type Release } from './connections-per-ip';

/**
 * IMAP_WORKERS above 1: the process forks that many workers (node:cluster), each a whole access
 * server (IMAP, POP3, its LISTEN connection, its auth cache, its database pool); the listening
 * ports are shared and the kernel's accepts are handed round-robin. Like Dovecot's process per
 * session, it lets one machine's cores serve FETCH in parallel. The primary holds no session:
 * it counts connections per IP for all workers, answers /health (every worker's checks) and
 * /metrics (the workers' metrics summed), restarts a worker that dies, and stops them on SIGTERM.
 * The last three are @mailroom/ops's runClusterPrimary; the per-IP count rides beside its messages.
 */

type Pool = 'imap' | 'pop3';
type ToPrimary =
  { t: 'gate-acquire'; id: number; pool: Pool; ip: string } | { t: 'gate-release'; pool: Pool; ip: string };
type ToWorker = { t: 'gate-answer'; id: number; ok: boolean };
/** What a worker's 'ready' carries: the ports it listens on, for the primary's start-up line. */
type Ports = Record<string, number>;

// ---- worker side

let nextId = 0;
const answers = new Map<number, (ok: boolean) => void>();
let listening = false;

function listen(): void {
  if (listening) return;
  listening = true;
  process.on('message', (m: unknown) => {
    if (isClusterMessage<ToWorker>(m) && m.t === 'gate-answer') {
      answers.get(m.id)?.(m.ok);
      answers.delete(m.id);
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

// ---- primary side

/** Runs the primary: forks `workers`, counts connections per IP across them, serves /health and /metrics. */
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
  let ports: Ports | null = null;
  const primary = await runClusterPrimary<Ports>({
    workers,
    logger,
    host: config.HEALTH_HOST,
    port: config.IMAP_HEALTH_PORT,
    diedMessage: 'imap worker died; starting another',
    startFailedMessage: 'an imap worker exited while starting',
    onReady: (_worker, workerPorts) => {
      ports ??= workerPorts;
    },
    onMessage: (worker, m) => {
      if (!isClusterMessage<ToPrimary>(m)) return;
      if (m.t === 'gate-acquire') {
        const key = `${m.pool} ${m.ip}`;
        const ok = (open.get(key) ?? 0) < limits[m.pool];
        if (ok) count(worker, key, 1);
        worker.send({ t: 'gate-answer', id: m.id, ok } satisfies ToWorker);
      } else if (m.t === 'gate-release') {
        const key = `${m.pool} ${m.ip}`;
        if ((held.get(worker.id)?.get(key) ?? 0) > 0) count(worker, key, -1);
      }
    },
    onExit: (worker) => {
      // Its connections are gone with it.
      for (const [key, n] of held.get(worker.id) ?? []) count(worker, key, -n);
      held.delete(worker.id);
    },
  });
  logger.info({ ...(ports ?? {}), health: primary.healthPort, workers }, 'imap listening');
}
