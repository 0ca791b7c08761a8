import { execFile } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { Cluster, Redis } from 'ioredis';
import { createRedis, type RedisClient, type RedisTarget } from '@mailroom/queue';

const run = promisify(execFile);
const SCRIPT = path.resolve(__dirname, '../../scripts/redis-cluster.sh');

/**
 * The Redis the tests' own connections and the apps they start use: the cluster of
 * `npm run test:scale` when REDIS_CLUSTER_NODES is set (it wins, as in libs/config), else REDIS_URL.
 */
export function sharedRedisEnv(): Record<string, string> {
  const nodes = process.env.REDIS_CLUSTER_NODES;
  return { REDIS_URL: process.env.REDIS_URL!, ...(nodes ? { REDIS_CLUSTER_NODES: nodes } : {}) };
}

/** True when the tests run against a Redis Cluster (`npm run test:scale`). */
export function clusterMode(): boolean {
  return Boolean(process.env.REDIS_CLUSTER_NODES);
}

/** The settings of an app environment as createRedis reads them. */
export function redisTarget(env: Record<string, string>): RedisTarget {
  const nodes = env.REDIS_CLUSTER_NODES;
  return {
    REDIS_URL: env.REDIS_URL,
    REDIS_CLUSTER_NODES: nodes
      ? nodes.split(',').map((n) => {
          const i = n.lastIndexOf(':');
          return { host: n.slice(0, i), port: Number(n.slice(i + 1)) };
        })
      : undefined,
  };
}

/** A connection for the test itself (queueing, reading queues), retrying like a worker's. */
export function connectRedis(env: Record<string, string> = sharedRedisEnv()): RedisClient {
  const client = createRedis(redisTarget(env), 'worker');
  client.on('error', () => undefined);
  return client;
}

/** FLUSHALL on one Redis, or on every master of a cluster (replicas follow their master). */
export async function flushRedis(client: RedisClient): Promise<void> {
  if (client instanceof Cluster) {
    await Promise.all(client.nodes('master').map((n) => n.flushall()));
  } else {
    await client.flushall();
  }
}

/**
 * Deletes the keys matching `pattern` (KEYS on every master of a cluster: one node knows only
 * its own slots; one DEL per key, since a DEL of keys in different slots fails with CROSSSLOT).
 */
export async function deleteKeys(client: RedisClient, pattern: string): Promise<void> {
  const nodes = client instanceof Cluster ? client.nodes('master') : [client];
  for (const node of nodes) {
    for (const key of await node.keys(pattern)) await client.del(key);
  }
}

export interface TestRedisCluster {
  /** The first node's URL (what an app's REDIS_URL would be; REDIS_CLUSTER_NODES wins). */
  url: string;
  port: number;
  ports: number[];
  /** REDIS_URL and REDIS_CLUSTER_NODES for an app environment. */
  env: Record<string, string>;
  /**
   * The port of the master that serves `key`'s slot now, as the first live node answers
   * CLUSTER SLOTS (a node that does not answer within a second is skipped; none answering throws).
   */
  masterOf(key: string): Promise<number>;
  /**
   * The replica of the master on `port` and whether it holds its master's data
   * (INFO replication: master_link_status:up). A replica that never synced does not take over.
   */
  replicaOf(port: number): Promise<{ port: number; inSync: boolean } | null>;
  /** cluster_state and roles, as `scripts/redis-cluster.sh status` prints them. */
  status(): Promise<string>;
  /** kill -9 of one node by the pid in its pid file. */
  kill(port: number): Promise<void>;
  /** kill -9 of every node, then up again: no persistence, so the cluster comes back empty. */
  restart(): Promise<void>;
  stop(): Promise<void>;
}

/**
 * A private cluster (scripts/redis-cluster.sh on six free ports, data in a temporary folder),
 * for a test that takes nodes away: the shared one of `npm run test:scale` stays whole.
 */
export async function startRedisCluster(): Promise<TestRedisCluster> {
  const base = await freeClusterBase();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-rcluster-'));
  const env = { ...process.env, MAILROOM_REDIS_CLUSTER_PORT: String(base), MAILROOM_REDIS_CLUSTER_DIR: dir };
  const script = (command: string) => run('bash', [SCRIPT, command], { env, timeout: 60_000 });
  const ports = Array.from({ length: 6 }, (_, i) => base + i);
  const up = async () => {
    const { stdout } = await script('up');
    return /^REDIS_CLUSTER_NODES=(.*)$/m.exec(stdout)![1]!;
  };
  const nodes = await up();
  const pid = (port: number) => Number(fs.readFileSync(path.join(dir, String(port), 'redis.pid'), 'utf8'));
  const kill = async (port: number) => {
    const p = pid(port);
    process.kill(p, 'SIGKILL');
    while (fs.existsSync(`/proc/${p}`) && !fs.readFileSync(`/proc/${p}/stat`, 'utf8').includes(') Z ')) {
      await new Promise((r) => setTimeout(r, 20));
    }
  };
  return {
    url: `redis://127.0.0.1:${base}`,
    port: base,
    ports,
    env: { REDIS_URL: `redis://127.0.0.1:${base}`, REDIS_CLUSTER_NODES: nodes },
    // One node at a time, not an ioredis Cluster: a cluster client retries without end while
    // a slot has no master, and a test waiting for a failover must see that it did not happen.
    masterOf: async (key) => {
      for (const port of ports) {
        const answer = await askNode(port, async (node) => {
          const slot = Number(await node.cluster('KEYSLOT', key));
          const slots = await node.cluster('SLOTS');
          return slots.find(([from, to]) => slot >= from && slot <= to)?.[2]?.[1];
        });
        if (answer !== undefined) return answer;
      }
      throw new Error(`no node of the cluster on ${base}-${base + 5} names a master for ${key}`);
    },
    replicaOf: async (port) => {
      for (const p of ports) {
        if (p === port) continue;
        const info = await askNode(p, (node) => node.info('replication'));
        if (info === undefined || !new RegExp(`^master_port:${port}\\r?$`, 'm').test(info)) continue;
        return { port: p, inSync: /^master_link_status:up\r?$/m.test(info) };
      }
      return null;
    },
    status: async () => (await script('status').catch((e: { stdout?: string }) => ({ stdout: e.stdout ?? '' }))).stdout,
    kill,
    restart: async () => {
      for (const port of ports) await kill(port).catch(() => undefined);
      for (const port of ports) fs.rmSync(path.join(dir, String(port), 'redis.pid'), { force: true });
      await up();
    },
    stop: async () => {
      await script('down');
    },
  };
}

/**
 * A first port with it, the next five and their bus ports (+10000) free a moment ago. All twelve
 * lie below 20000: above it are freePort's slices (apps other tests start at any moment) and the
 * kernel's ephemeral range (32768-60999, any outgoing connection or listen(0)); restart() leaves
 * the ports unbound for a moment, and a node that cannot bind its port again never answers.
 */
async function freeClusterBase(): Promise<number> {
  for (let attempt = 0; attempt < 50; attempt++) {
    const base = 2_000 + Math.floor(Math.random() * 7_900);
    const ports = Array.from({ length: 6 }, (_, i) => [base + i, base + i + 10_000]).flat();
    if ((await Promise.all(ports.map(isFree))).every(Boolean)) return base;
  }
  throw new Error('no free ports for a private Redis Cluster');
}

/** `ask` on a plain connection to one node; undefined when the node does not answer within a second. */
async function askNode<T>(port: number, ask: (node: Redis) => Promise<T>): Promise<T | undefined> {
  const node = new Redis({
    host: '127.0.0.1',
    port,
    lazyConnect: true,
    connectTimeout: 1_000,
    commandTimeout: 1_000,
    maxRetriesPerRequest: 0,
    enableOfflineQueue: false,
    retryStrategy: () => null,
  });
  node.on('error', () => undefined);
  try {
    await node.connect();
    return await ask(node);
  } catch {
    return undefined;
  } finally {
    node.disconnect();
  }
}

function isFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}
