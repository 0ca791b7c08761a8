import { afterEach, describe, expect, it } from 'vitest';
import { createRedis, pingRedis, type RedisClient } from '@mailroom/queue';

describe('pingRedis (the health checks of every app)', () => {
  const clients: RedisClient[] = [];
  afterEach(() => {
    for (const c of clients.splice(0)) c.disconnect();
  });

  it('reports a Redis that is still being connected to as up once it answers', async () => {
    const redis = createRedis(process.env.REDIS_URL!, 'client');
    clients.push(redis);
    redis.on('error', () => undefined);
    void redis.connect().catch(() => undefined);
    expect(redis.status).toBe('connecting');
    expect(await pingRedis(redis)).toBe(true);
  });

  it('reports a Redis that does not answer as down within the timeout', async () => {
    const redis = createRedis('redis://127.0.0.1:1', 'client');
    clients.push(redis);
    redis.on('error', () => undefined);
    expect(await pingRedis(redis, 300)).toBe(false);
  });
});
