import { randomBytes } from 'node:crypto';
import http from 'node:http';
import { APP_ENTRY, appEnv, imapPortsEnv, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';
import { sharedRedisEnv } from '@test/support/redis-cluster';
import { startMtaProcess, type MtaProcess } from '@test/faults/support/mta-process';
import { startAll, startWorker, type WorkerProcess } from '@test/faults/support/outbound';
import { workerSettings } from '@test/faults/support/worker-settings';
import { BALANCER_ADDRESS, startHaproxy, type Balancer } from './haproxy';

/** How long one boot may take: eight at once on a busy two-core machine took 76 s. */
const BOOT_MS = 150_000;

/** A built app (dist/apps/...) as its own process, healthy on `health`. */
export interface AppProcess {
  name: string;
  env: Record<string, string>;
  proc: RunningProcess;
  stop(): Promise<void>;
}

async function startApp(name: string, entry: string, env: Record<string, string>, health: string): Promise<AppProcess> {
  const proc = runNode(entry, [], env);
  try {
    await waitForHttp(health, proc, BOOT_MS, 200);
  } catch (err) {
    await proc.stop();
    throw new Error(`${name} did not become healthy: ${String(err)}`);
  }
  return { name, env, proc, stop: () => proc.stop() };
}

export interface Fleet {
  api: AppProcess[];
  mta: MtaProcess[];
  imap: AppProcess[];
  workers: WorkerProcess[];
  lb: Balancer;
  /** Every process of the fleet, for a last look at their exit codes and output. */
  all(): { name: string; proc: RunningProcess }[];
  stop(): Promise<void>;
}

export interface FleetOptions {
  primaryUrl: string;
  replicaUrl: string;
  dnsPort: number;
  /** One sink port per worker (SMTP_DELIVERY_PORT): the sink's log says which worker sent what. */
  sinkPorts: [number, number];
  api?: Record<string, string>;
}

/**
 * docker-compose.yml's "scale" profile as processes on this machine: api, mta, imap and worker
 * twice each (the built entry points, every one with its own loopback ports, data dir and
 * pid), all on one primary with DATABASE_REPLICA_URLS naming its streaming replica, the Redis
 * Cluster of `npm run test:scale`, one queue prefix and one master key, bodies in PostgreSQL;
 * HAProxy in front with compose/haproxy.cfg's frontends. Pools are 5 connections per process
 * (the private primary takes 60; eight processes and the API's replica pools fit).
 * Whatever started is stopped by `stop()` even when another start failed.
 */
export async function startFleet(options: FleetOptions, into: { fleet?: Fleet }): Promise<Fleet> {
  const common = {
    ...sharedRedisEnv(),
    QUEUE_PREFIX: `scale${randomBytes(3).toString('hex')}`,
    MASTER_KEY: randomBytes(32).toString('hex'),
    DATABASE_REPLICA_URLS: options.replicaUrl,
    DATABASE_POOL_SIZE: '5',
    BLOB_STORE: 'db',
    DNS_SERVERS: `127.0.0.1:${options.dnsPort}`,
    LOG_LEVEL: 'warn',
  };
  const api: AppProcess[] = [];
  const mta: MtaProcess[] = [];
  const imap: AppProcess[] = [];
  const workers: WorkerProcess[] = [];
  const started: { lb?: Balancer } = {};
  const fleet: Fleet = {
    api,
    mta,
    imap,
    workers,
    get lb() {
      return started.lb!;
    },
    all: () => [...api, ...mta.map((m, n) => ({ name: `mta-${'ab'[n]}`, proc: m.proc })), ...imap, ...workers],
    stop: async () => {
      await started.lb?.stop();
      await Promise.all([...api, ...mta, ...imap, ...workers].map((p) => p.stop()));
    },
  };
  into.fleet = fleet;

  const startApi = async (name: string) => {
    const env = await appEnv(options.primaryUrl, {
      ...common,
      TRUST_PROXY: BALANCER_ADDRESS, // X-Forwarded-For believed from the balancer only
      API_RATE_LIMIT_PER_MINUTE: '100000',
      LOGIN_MAX_FAILURES_PER_IP: '100000',
      ...options.api,
    });
    return startApp(name, APP_ENTRY.api, env, `http://127.0.0.1:${env.API_PORT}/health`);
  };
  const startImap = async (name: string) => {
    const env = await appEnv(options.primaryUrl, {
      ...common,
      ...(await imapPortsEnv()),
      PROXY_PROTOCOL_TRUSTED_NETWORKS: `${BALANCER_ADDRESS}/32`,
    });
    return startApp(name, APP_ENTRY.imap, env, `http://127.0.0.1:${env.IMAP_HEALTH_PORT}/health`);
  };
  // The balancer's PROXY header names each client, so the per-IP limit (20 by default) counts
  // the test's sessions (16 at most, from 127.0.0.1), not the balancer.
  const mtaEnv = { ...common, PROXY_PROTOCOL_TRUSTED_NETWORKS: `${BALANCER_ADDRESS}/32` };
  const worker = (n: number) =>
    startWorker(
      `worker-${'ab'[n]}`,
      options.primaryUrl,
      workerSettings({
        redis: sharedRedisEnv(),
        queuePrefix: common.QUEUE_PREFIX,
        dnsPort: options.dnsPort,
        sinkPort: options.sinkPorts[n]!,
        extra: { ...common },
      }),
      BOOT_MS,
    );
  // All eight at once: on two cores the boots share the CPU either way, and none waits for a
  // slower sibling before it starts. Settled, so afterAll stops whatever did start.
  const results = await Promise.allSettled([
    startAll([startApi('api-a'), startApi('api-b')], api),
    startAll(
      [
        startMtaProcess(options.primaryUrl, options.dnsPort, mtaEnv, BOOT_MS),
        startMtaProcess(options.primaryUrl, options.dnsPort, mtaEnv, BOOT_MS),
      ],
      mta,
    ),
    startAll([startImap('imap-a'), startImap('imap-b')], imap),
    startAll([worker(0), worker(1)], workers),
  ]);
  const failed = results.find((r) => r.status === 'rejected');
  if (failed) throw failed.reason;

  const lb = await startHaproxy({
    api: api.map((a) => ({ name: a.name, port: Number(a.env.API_PORT) })),
    mta: mta.map((m, n) => ({
      name: `mta-${'ab'[n]}`,
      smtp: Number(m.env.SMTP_PORT),
      submission: Number(m.env.SUBMISSION_PORT),
      submissions: Number(m.env.SUBMISSIONS_PORT),
      health: Number(m.env.MTA_HEALTH_PORT),
    })),
    imap: imap.map((i) => ({
      name: i.name,
      imap: Number(i.env.IMAP_PORT),
      imaps: Number(i.env.IMAPS_PORT),
      pop3: Number(i.env.POP3_PORT),
      pop3s: Number(i.env.POP3S_PORT),
      health: Number(i.env.IMAP_HEALTH_PORT),
    })),
  });
  started.lb = lb;
  await lb.waitFor('UP');
  return fleet;
}

/** An HTTP answer through the balancer, and the API process that gave it. */
export interface LbAnswer<T> {
  status: number;
  body: T;
  backend: string;
}

/**
 * A JSON request to the balancer's API frontend from a chosen loopback source address
 * (127.0.0.0/8 is all local): `balance source` hashes it, so two addresses can stand for two
 * clients that land on different API processes.
 */
export function lbRequest<T>(
  port: number,
  source: string,
  method: string,
  path: string,
  token?: string,
  body?: unknown,
): Promise<LbAnswer<T>> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: '127.0.0.1',
        port,
        localAddress: source,
        method,
        path,
        agent: false,
        headers: {
          ...(payload ? { 'content-type': 'application/json' } : {}),
          ...(token ? { authorization: `Bearer ${token}` } : {}),
        },
        timeout: 30_000,
      },
      (res) => {
        let text = '';
        res.setEncoding('utf8');
        res.on('data', (d: string) => (text += d));
        res.on('end', () => {
          let parsed: unknown = text;
          try {
            parsed = text ? JSON.parse(text) : null;
          } catch {
            // not JSON: keep the text
          }
          resolve({
            status: res.statusCode ?? 0,
            body: parsed as T,
            backend: String(res.headers['x-mailroom-backend'] ?? ''),
          });
        });
      },
    );
    req.on('timeout', () => req.destroy(new Error(`${method} ${path}: no answer within 30 s`)));
    req.on('error', reject);
    req.end(payload);
  });
}
