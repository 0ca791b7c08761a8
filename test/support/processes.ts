import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { clusterMode, sharedRedisEnv, startRedisCluster } from './redis-cluster';

export const ROOT = path.resolve(__dirname, '../..');

/**
 * The kernel's ephemeral range (net.ipv4.ip_local_port_range): outgoing connections and
 * `listen(0)` take their local port from it, at any moment, in every process on the machine.
 */
function ephemeralRange(): [number, number] {
  try {
    const [low, high] = fs
      .readFileSync('/proc/sys/net/ipv4/ip_local_port_range', 'utf8')
      .trim()
      .split(/\s+/)
      .map(Number);
    if (low && high) return [low, high];
  } catch {
    // Not Linux: the IANA dynamic range.
  }
  return [49152, 65535];
}

const handedOut = new Set<number>();
let nextInSlice = -1;

/**
 * A free port for an app a test starts as its own process. The app binds it some time after we
 * check it, so the port must not be one the OS could hand to anything else meanwhile: a port the
 * OS picked (`listen(0)`) and released is in the ephemeral range, where any outgoing connection
 * (to PostgreSQL, Redis, a test's SMTP client) may take it first, and the app then fails with
 * EADDRINUSE. So ports come from below the ephemeral range, where the OS never hands out ports
 * itself, each vitest worker from its own slice (VITEST_POOL_ID), never the same one twice in a
 * process, and only after a bind shows nobody holds it.
 */
export async function freePort(): Promise<number> {
  const [ephemeralLow] = ephemeralRange();
  const low = 20_000;
  const high = Math.min(ephemeralLow, 65_536) - 1;
  const slices = 16;
  const sliceSize = Math.floor((high - low + 1) / slices);
  if (sliceSize < 50) return osPickedPort();
  const slice = (Number(process.env.VITEST_POOL_ID ?? process.pid) || 0) % slices;
  const start = low + slice * sliceSize;
  if (nextInSlice < 0) nextInSlice = Math.floor(Math.random() * sliceSize);
  for (let tries = 0; tries < sliceSize; tries++) {
    const port = start + (nextInSlice++ % sliceSize);
    if (handedOut.has(port)) continue;
    if (await canBind(port)) {
      handedOut.add(port);
      return port;
    }
  }
  return osPickedPort();
}

function canBind(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once('error', () => resolve(false));
    server.listen(port, '127.0.0.1', () => server.close(() => resolve(true)));
  });
}

function osPickedPort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Environment for a built app: real services, fresh ports, a private data dir and queue prefix. */
export async function appEnv(
  databaseUrl: string,
  overrides: Record<string, string> = {},
): Promise<Record<string, string>> {
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-test-'));
  return {
    PATH: process.env.PATH ?? '',
    NODE_ENV: 'test',
    LOG_LEVEL: 'warn',
    DATABASE_URL: databaseUrl,
    ...sharedRedisEnv(),
    QUEUE_PREFIX: `mrtest${randomBytes(4).toString('hex')}`,
    MX_HOSTNAME: 'mx.mailroom.test',
    MASTER_KEY: randomBytes(32).toString('hex'),
    DATA_DIR: dataDir,
    API_HOST: '127.0.0.1',
    API_PORT: String(await freePort()),
    SMTP_HOST: '127.0.0.1',
    SMTP_PORT: String(await freePort()),
    SUBMISSION_PORT: String(await freePort()),
    SUBMISSIONS_PORT: String(await freePort()),
    MTA_HEALTH_PORT: String(await freePort()),
    WORKER_HEALTH_PORT: String(await freePort()),
    ...overrides,
  };
}

/** Fresh loopback ports for the IMAP server's listeners (IMAP, IMAPS, POP3, POP3S, health). */
export async function imapPortsEnv(): Promise<Record<string, string>> {
  return {
    IMAP_HOST: '127.0.0.1',
    IMAP_PORT: String(await freePort()),
    IMAPS_PORT: String(await freePort()),
    POP3_PORT: String(await freePort()),
    POP3S_PORT: String(await freePort()),
    IMAP_HEALTH_PORT: String(await freePort()),
  };
}

export interface RunningProcess {
  child: ChildProcess;
  output(): string;
  exited: Promise<number | null>;
  stop(): Promise<void>;
}

/**
 * Runs a built entry point (dist/...) as its own process, the way operators run it. The working
 * directory is the test's data dir, so a developer's .env in the repository never leaks in.
 */
export function runNode(script: string, args: string[], env: Record<string, string>): RunningProcess {
  const child = spawn(process.execPath, [path.join(ROOT, script), ...args], {
    cwd: env.DATA_DIR ?? os.tmpdir(),
    env,
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  child.stdout!.on('data', (d: Buffer) => (out += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (out += d.toString()));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  return {
    child,
    output: () => out,
    exited,
    stop: async () => {
      if (child.exitCode === null && child.signalCode === null) {
        child.kill('SIGTERM');
        const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
        await exited;
        clearTimeout(timer);
      }
    },
  };
}

export const APP_ENTRY = {
  api: 'dist/apps/api/src/main.js',
  mta: 'dist/apps/mta/src/main.js',
  worker: 'dist/apps/worker/src/main.js',
  imap: 'dist/apps/imap/src/main.js',
  cli: 'dist/apps/cli/src/main.js',
} as const;

/** Polls until `url` answers with `status` (any status when undefined); throws after `timeoutMs`. */
export async function waitForHttp(
  url: string,
  proc?: RunningProcess,
  timeoutMs = 30_000,
  status?: number,
): Promise<Response> {
  const deadline = Date.now() + timeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    if (proc && proc.child.exitCode !== null) {
      throw new Error(`process exited (${proc.child.exitCode}):\n${proc.output()}`);
    }
    try {
      const res = await fetch(url);
      if (status === undefined || res.status === status) return res;
      last = `status ${res.status}`;
    } catch (err) {
      last = String(err);
    }
    await new Promise((r) => setTimeout(r, 200));
  }
  throw new Error(`${url}: ${last}${proc ? `\n${proc.output()}` : ''}`);
}

export interface TestRedis {
  url: string;
  port: number;
  /** REDIS_URL (and REDIS_CLUSTER_NODES) for an app environment. */
  env: Record<string, string>;
  stop(): Promise<void>;
}

/**
 * A private redis-server on a free port, for tests that take Redis away; under
 * `npm run test:scale` a private Redis Cluster instead.
 */
export async function startRedis(): Promise<TestRedis> {
  if (clusterMode()) return startRedisCluster();
  const port = await freePort();
  const child = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  const deadline = Date.now() + 10_000;
  for (;;) {
    const open = await new Promise<boolean>((resolve) => {
      const socket = net.connect(port, '127.0.0.1', () => {
        socket.end();
        resolve(true);
      });
      socket.once('error', () => resolve(false));
    });
    if (open) break;
    if (Date.now() > deadline) throw new Error('redis-server did not start');
    await new Promise((r) => setTimeout(r, 50));
  }
  return {
    url: `redis://127.0.0.1:${port}`,
    port,
    env: { REDIS_URL: `redis://127.0.0.1:${port}` },
    stop: async () => {
      child.kill('SIGKILL');
      await exited;
    },
  };
}
