import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import {
  APP_ENTRY,
  appEnv,
  freePort,
  runNode,
  startRedis,
  waitForHttp,
  type RunningProcess,
  type TestRedis,
} from '@test/support/processes';

interface HealthBody {
  status: string;
  details: Record<string, { status: string }>;
}

async function health(url: string): Promise<{ status: number; body: HealthBody }> {
  const res = await fetch(url);
  return { status: res.status, body: (await res.json()) as HealthBody };
}

describe('health of the built apps', () => {
  let db: TestDatabase;
  let redis: TestRedis;
  const running: RunningProcess[] = [];
  const urls: Record<'api' | 'mta' | 'worker', string> = { api: '', mta: '', worker: '' };

  beforeAll(async () => {
    db = await createTestDatabase();
    redis = await startRedis();
    const env = await appEnv(db.url, redis.env);
    urls.api = `http://127.0.0.1:${env.API_PORT}/health`;
    urls.mta = `http://127.0.0.1:${env.MTA_HEALTH_PORT}/health`;
    urls.worker = `http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`;
    for (const app of ['api', 'mta', 'worker'] as const) {
      const proc = runNode(APP_ENTRY[app], [], env);
      running.push(proc);
      await waitForHttp(urls[app], proc, 30_000, 200);
    }
  });

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await redis?.stop();
    await db?.drop();
  });

  // The api here is the tsc build run as its own process: its controllers resolve their
  // constructor dependencies only if the build emitted decorator metadata.
  it.each(['api', 'mta', 'worker'] as const)('%s answers 200 with database and Redis up', async (app) => {
    const sut = await health(urls[app]);
    expect(sut.status).toBe(200);
    expect(sut.body).toMatchObject({ status: 'ok', details: { database: { status: 'up' }, redis: { status: 'up' } } });
  });

  it('mta and worker serve Prometheus metrics', async () => {
    for (const app of ['mta', 'worker'] as const) {
      const res = await fetch(urls[app].replace('/health', '/metrics'));
      expect(res.status).toBe(200);
      const text = await res.text();
      expect(text).toContain(`process_cpu_seconds_total{app="${app}"}`);
    }
  });

  it('answers 503 naming Redis when Redis stops, from every app', async () => {
    await redis.stop();
    for (const app of ['api', 'mta', 'worker'] as const) {
      const sut = await health(urls[app]);
      expect(sut.status, app).toBe(503);
      expect(sut.body.details, app).toEqual({ database: { status: 'up' }, redis: { status: 'down' } });
    }
  });
});

describe('api health with the database down', () => {
  it('answers 503 naming the database', async () => {
    const closedPort = await freePort();
    const env = await appEnv(`postgresql://postgres@127.0.0.1:${closedPort}/nowhere`);
    const proc = runNode(APP_ENTRY.api, [], env);
    try {
      const res = await waitForHttp(`http://127.0.0.1:${env.API_PORT}/health`, proc, 30_000);
      expect(res.status).toBe(503);
      const body = (await res.json()) as HealthBody;
      expect(body.details).toEqual({ database: { status: 'down' }, redis: { status: 'up' } });
    } finally {
      await proc.stop();
    }
  });
});
