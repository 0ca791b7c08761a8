import { once } from 'node:events';
import { Cluster, Redis, type ClusterOptions, type RedisOptions } from 'ioredis';

/** One Redis or one Redis Cluster: every command we use works the same on both. */
export type RedisClient = Redis | Cluster;

/** Where Redis is, as libs/config reads it: the cluster's seed nodes win over the URL. */
export interface RedisTarget {
  REDIS_URL?: string | undefined;
  REDIS_CLUSTER_NODES?: { host: string; port: number }[] | undefined;
}

type Kind = 'worker' | 'client' | 'probe';

/**
 * An ioredis connection, or an ioredis Cluster when `REDIS_CLUSTER_NODES` is set. `worker`:
 * BullMQ workers block on Redis and must retry forever (maxRetriesPerRequest null); producers and
 * health checks fail fast instead, so an API request never hangs on a Redis outage. A string is
 * a redis:// URL (one instance).
 */
export function createRedis(target: RedisTarget | string, kind: Kind): RedisClient {
  const { REDIS_URL: url, REDIS_CLUSTER_NODES: nodes } = typeof target === 'string' ? { REDIS_URL: target } : target;
  if (nodes && nodes.length > 0) return new Cluster(nodes, clusterOptions(kind));
  if (!url) throw new Error('createRedis: neither REDIS_CLUSTER_NODES nor REDIS_URL is set');
  const base: RedisOptions =
    kind === 'worker'
      ? { maxRetriesPerRequest: null, enableReadyCheck: true }
      : kind === 'client'
        ? { maxRetriesPerRequest: 1, enableOfflineQueue: false, connectTimeout: 2_000 }
        : {
            maxRetriesPerRequest: 0,
            enableOfflineQueue: false,
            connectTimeout: 1_000,
            lazyConnect: true,
            retryStrategy: (times) => Math.min(times * 200, 2_000),
          };
  return new Redis(url, base);
}

/**
 * The same three kinds on a cluster. A master that dies answers nothing until its replica is
 * promoted (cluster-node-timeout plus an election, seconds): ioredis then refreshes the slot map
 * on the next MOVED or closed connection and sends the command again, up to maxRedirections
 * times, retryDelayOnFailover apart. Workers wait that out (offline queue, no retry limit);
 * clients give up after about two seconds, as they do when a single Redis is down, and what they
 * could not queue the worker's sweeps find in PostgreSQL.
 */
function clusterOptions(kind: Kind): ClusterOptions {
  switch (kind) {
    case 'worker':
      return {
        redisOptions: { maxRetriesPerRequest: null, enableReadyCheck: true },
        retryDelayOnFailover: 200,
        maxRedirections: 64,
      };
    case 'client':
      return {
        redisOptions: { maxRetriesPerRequest: 1, connectTimeout: 2_000 },
        enableOfflineQueue: false,
        retryDelayOnFailover: 200,
        maxRedirections: 10,
      };
    case 'probe':
      return {
        redisOptions: { maxRetriesPerRequest: 0, connectTimeout: 1_000 },
        enableOfflineQueue: false,
        lazyConnect: true,
        clusterRetryStrategy: (times) => Math.min(times * 200, 2_000),
      };
  }
}

/**
 * The BullMQ prefix of one queue. On a cluster, every key a BullMQ script touches must hash to
 * one slot, so the prefix is made a hash tag: `{mailroom:deliveries}`, one tag per queue, which
 * spreads the queues over the masters (BullMQ's own scripts touch one queue's keys only; we use
 * no flows, which would span queues). A prefix that already holds a tag (`{mailroom}`) is kept
 * as the operator set it. On one Redis the prefix stays as it was: changing it would strand
 * every job already queued under the old keys at upgrade.
 */
export function bullPrefix(prefix: string, connection: RedisClient, queue: string): string {
  if (!connection.isCluster || /\{[^}]+\}/.test(prefix)) return prefix;
  return `{${prefix}:${queue}}`;
}

/** True when Redis (or every slot of the cluster) answers PING within `timeoutMs`. */
export async function pingRedis(redis: RedisClient, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = (async () => {
    if (redis.status === 'wait') await redis.connect();
    // Still connecting (the first health check of a process that has just started): without an
    // offline queue PING would be refused at once and a healthy Redis reported down.
    else if (redis.status === 'connecting' || redis.status === 'connect') await once(redis, 'ready');
    if (redis instanceof Cluster) {
      // PING reaches one node; CLUSTER INFO says whether every slot is served.
      const info = await redis.cluster('INFO');
      return /^cluster_state:ok\r?$/m.test(info);
    }
    return (await redis.ping()) === 'PONG';
  })().catch(() => false);
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
