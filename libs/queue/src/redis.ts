import { once } from 'node:events';
import { Redis, type RedisOptions } from 'ioredis';

/**
 * An ioredis connection. `forWorker`: BullMQ workers block on Redis and must retry forever
 * (maxRetriesPerRequest null); producers and health checks fail fast instead, so an API request
 * never hangs on a Redis outage.
 */
export function createRedis(url: string, kind: 'worker' | 'client' | 'probe', extra: RedisOptions = {}): Redis {
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
  return new Redis(url, { ...base, ...extra });
}

/** True when Redis answers PING within `timeoutMs`. */
export async function pingRedis(redis: Redis, timeoutMs = 1_000): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), timeoutMs);
  });
  const ping = (async () => {
    if (redis.status === 'wait') await redis.connect();
    // Still connecting (the first health check of a process that has just started): without an
    // offline queue PING would be refused at once and a healthy Redis reported down.
    else if (redis.status === 'connecting' || redis.status === 'connect') await once(redis, 'ready');
    return (await redis.ping()) === 'PONG';
  })().catch(() => false);
  try {
    return await Promise.race([ping, timeout]);
  } finally {
    clearTimeout(timer);
  }
}
