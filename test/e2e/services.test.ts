import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, describe, expect, it } from 'vitest';
import pg from 'pg';
import { Redis } from 'ioredis';
import { freePort, ROOT } from '@test/support/processes';

const run = promisify(execFile);

async function services(command: 'up' | 'down', env: Record<string, string>) {
  return run('bash', [path.join(ROOT, 'scripts/services.sh'), command], { cwd: ROOT, env: { ...process.env, ...env } });
}

function readEnv(dir: string): Record<string, string> {
  const text = fs.readFileSync(path.join(dir, 'services.env'), 'utf8');
  return Object.fromEntries(
    text
      .trim()
      .split('\n')
      .map((l) => l.split(/=(.*)/s).slice(0, 2) as [string, string]),
  );
}

function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-services-'));
  fs.chmodSync(dir, 0o755); // the PostgreSQL user must reach its data folder inside
  return dir;
}

describe('scripts/services.sh', () => {
  const cleanups: (() => Promise<unknown>)[] = [];
  afterAll(async () => {
    for (const c of cleanups) await c();
  });

  it('uses DATABASE_URL and REDIS_URL when they answer, and starts nothing', async () => {
    const dir = tempDir();
    const env = {
      MAILROOM_SERVICES_DIR: dir,
      DATABASE_URL: process.env.DATABASE_URL!,
      REDIS_URL: process.env.REDIS_URL!,
    };
    await services('up', env);
    await services('up', env);
    expect(readEnv(dir)).toEqual({ DATABASE_URL: process.env.DATABASE_URL, REDIS_URL: process.env.REDIS_URL });
    expect(fs.existsSync(path.join(dir, 'pg'))).toBe(false);
    expect(fs.existsSync(path.join(dir, 'redis.pid'))).toBe(false);
  });

  it('starts local PostgreSQL and Redis with data in its folder, idempotently, and stops them', async () => {
    const dir = tempDir();
    const env = {
      MAILROOM_SERVICES_DIR: dir,
      MAILROOM_SERVICES_MODE: 'local',
      MAILROOM_PG_PORT: String(await freePort()),
      MAILROOM_REDIS_PORT: String(await freePort()),
      DATABASE_URL: 'postgresql://postgres@127.0.0.1:1/mailroom_local',
    };
    cleanups.push(() => services('down', env).catch(() => undefined));

    await services('up', env);
    const first = readEnv(dir);
    expect(first.DATABASE_URL).toBe(`postgresql://postgres@127.0.0.1:${env.MAILROOM_PG_PORT}/mailroom_local`);
    expect(first.REDIS_URL).toBe(`redis://127.0.0.1:${env.MAILROOM_REDIS_PORT}`);
    expect(fs.existsSync(path.join(dir, 'pg', 'PG_VERSION'))).toBe(true);

    // The database it names exists and answers; Redis answers.
    const client = new pg.Client({ connectionString: first.DATABASE_URL });
    await client.connect();
    expect((await client.query('SELECT current_database() AS db')).rows[0].db).toBe('mailroom_local');
    await client.end();
    const redis = new Redis(first.REDIS_URL!);
    expect(await redis.ping()).toBe('PONG');
    const pid = fs.readFileSync(path.join(dir, 'redis.pid'), 'utf8').trim();

    await services('up', env); // again: same servers, same answers
    expect(readEnv(dir)).toEqual(first);
    expect(fs.readFileSync(path.join(dir, 'redis.pid'), 'utf8').trim()).toBe(pid);
    expect(await redis.ping()).toBe('PONG');
    redis.disconnect();

    await services('down', env);
    await services('down', env); // stopping twice is fine too
    const probe = new pg.Client({ connectionString: first.DATABASE_URL, connectionTimeoutMillis: 1000 });
    await expect(probe.connect()).rejects.toThrow();
    expect(fs.existsSync(path.join(dir, 'services.env'))).toBe(false);
  });
});
