// Services, databases and child processes for the benchmarks: a dedicated database per run
// (created, migrated, dropped), free ports, and CPU/memory accounting read from /proc.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { log, root, sleep } from './report.mjs';

/** DATABASE_URL / REDIS_URL from the environment, else the file `npm run services:up` writes. */
export function serviceUrls() {
  const file = path.join(root, '.mailroom/services/services.env');
  const fromFile = {};
  if (fs.existsSync(file)) {
    for (const line of fs.readFileSync(file, 'utf8').split('\n')) {
      const m = /^([A-Z_]+)=(.*)$/.exec(line.trim());
      if (m) fromFile[m[1]] = m[2];
    }
  }
  const databaseUrl = process.env.DATABASE_URL ?? fromFile.DATABASE_URL;
  const redisUrl = process.env.REDIS_URL ?? fromFile.REDIS_URL;
  if (!databaseUrl || !redisUrl) {
    throw new Error('DATABASE_URL and REDIS_URL are not set (run `npm run services:up` first)');
  }
  return { databaseUrl, redisUrl };
}

export function urlOf(base, database) {
  const u = new URL(base);
  u.pathname = `/${database}`;
  return u.toString();
}

async function adminQuery(base, sql) {
  const client = new pg.Client({ connectionString: urlOf(base, 'postgres') });
  await client.connect();
  try {
    return await client.query(sql);
  } finally {
    await client.end();
  }
}

/**
 * A fresh database `mailroom_bench_<label>_<timestamp>` with the committed migrations applied;
 * `drop()` removes it (skipped with `keep`).
 */
export async function createBenchDatabase(label, { keep = false } = {}) {
  const { databaseUrl } = serviceUrls();
  const name = `mailroom_bench_${label}_${Date.now().toString(36)}`;
  await adminQuery(databaseUrl, `CREATE DATABASE "${name}"`);
  const url = urlOf(databaseUrl, name);
  log(`database ${name}: migrating`);
  execFileSync(process.execPath, [path.join(root, 'scripts/prisma-wasm.mjs'), 'deploy'], {
    cwd: root,
    env: { ...process.env, DATABASE_URL: url },
    stdio: 'pipe',
  });
  return {
    name,
    url,
    async drop() {
      if (keep) {
        log(`kept database ${name} (--keep)`);
        return;
      }
      await adminQuery(databaseUrl, `DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
    },
  };
}

export async function freePort() {
  const server = net.createServer();
  await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address();
  await new Promise((resolve) => server.close(resolve));
  return port;
}

export async function waitForPort(port, timeoutMs = 30_000, child = null) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (child && child.exitCode !== null) throw new Error(`child exited with ${child.exitCode} before listening`);
    const ok = await new Promise((resolve) => {
      const s = net.connect(port, '127.0.0.1');
      s.once('connect', () => {
        s.destroy();
        resolve(true);
      });
      s.once('error', () => resolve(false));
    });
    if (ok) return;
    if (Date.now() > deadline) throw new Error(`nothing listens on ${port} after ${timeoutMs} ms`);
    await sleep(100);
  }
}

const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;
  } catch {
    return 100;
  }
})();

/** User + system CPU seconds a process has used so far (its own threads, not its children). */
export function cpuSeconds(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name, which is in parentheses and may contain spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / CLK_TCK; // utime, stime (fields 14 and 15)
  } catch {
    return null;
  }
}

/** Peak resident set size (VmHWM) in MB. */
export function peakRssMb(pid) {
  try {
    const m = /VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
    return m ? Number(m[1]) / 1024 : null;
  } catch {
    return null;
  }
}

/** The PostgreSQL backends serving one database, for their CPU time. */
export async function backendPids(client, database) {
  const { rows } = await client.query(
    'SELECT pid FROM pg_stat_activity WHERE datname = $1 AND pid <> pg_backend_pid()',
    [database],
  );
  return rows.map((r) => r.pid);
}

/**
 * CPU used by a database's backends between two snapshots. A backend that appeared after the
 * first snapshot counts from zero; one that ended before the second is lost (pools keep theirs).
 */
export async function dbCpuSnapshot(client, database) {
  const snap = new Map();
  for (const pid of await backendPids(client, database)) snap.set(pid, cpuSeconds(pid) ?? 0);
  return snap;
}

export function dbCpuDelta(before, after) {
  let total = 0;
  for (const [pid, cpu] of after) total += cpu - (before.get(pid) ?? 0);
  return total;
}

/**
 * The environment assignments and node flags of one of package.json's start scripts (e.g.
 * `MALLOC_ARENA_MAX=2 node --max-semi-space-size=8 dist/...`), so a benchmark runs an app as it
 * is shipped: { env, nodeArgs }.
 */
export function startScriptFlags(name) {
  const script = JSON.parse(fs.readFileSync(path.join(root, 'package.json'), 'utf8')).scripts[name];
  if (!script) throw new Error(`package.json has no script ${name}`);
  const words = script.trim().split(/\s+/);
  const env = {};
  let i = 0;
  for (; /^[A-Z_][A-Z0-9_]*=/.test(words[i] ?? ''); i++) {
    const eq = words[i].indexOf('=');
    env[words[i].slice(0, eq)] = words[i].slice(eq + 1);
  }
  if (words[i] !== 'node') throw new Error(`${name} should run node: ${script}`);
  const nodeArgs = [];
  for (i++; (words[i] ?? '').startsWith('--'); i++) nodeArgs.push(words[i]);
  return { env, nodeArgs };
}

/**
 * Starts `node <nodeArgs> <script> <args>` with `env` and waits until `port` accepts connections. Its stdout and
 * stderr go to a log file under the OS temp dir (printed when it fails).
 */
export async function startNode(script, { env, port, args = [], nodeArgs = [], label = path.basename(script) }) {
  if (!fs.existsSync(script)) throw new Error(`${path.relative(root, script)} is missing: run \`npm run build\` first`);
  const logFile = path.join(fs.mkdtempSync(path.join('/tmp', 'mailroom-bench-')), `${label}.log`);
  const out = fs.openSync(logFile, 'a');
  const child = spawn(process.execPath, [...nodeArgs, script, ...args], {
    cwd: root,
    env: { PATH: process.env.PATH, HOME: process.env.HOME, ...env },
    stdio: ['ignore', out, out],
  });
  fs.closeSync(out);
  try {
    await waitForPort(port, 60_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`${label} did not start: ${err.message}\n${fs.readFileSync(logFile, 'utf8').slice(-3000)}`);
  }
  return {
    child,
    pid: child.pid,
    logFile,
    cpu: () => cpuSeconds(child.pid),
    peakRssMb: () => peakRssMb(child.pid),
    async stop() {
      if (child.exitCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
      await exited;
      clearTimeout(timer);
    },
  };
}

/** The live children of `pid`, from every one of its threads (/proc/<pid>/task/<tid>/children). */
export function childPids(pid) {
  const pids = [];
  try {
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      const list = fs.readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8').trim();
      if (list) pids.push(...list.split(' ').map(Number));
    }
  } catch {
    // The process (or one of its threads) has just exited.
  }
  return pids;
}

/** `pid` and all its live descendants. */
export function processTree(pid) {
  const pids = [pid];
  for (let i = 0; i < pids.length; i++) pids.push(...childPids(pids[i]));
  return pids;
}

/**
 * CPU seconds of a whole process tree so far: each live process's own time plus the time of the
 * children it has already reaped (cutime/cstime). Forking servers (Postfix's master starts and
 * reaps smtpd, cleanup, smtp... as load comes and goes) so count even their short-lived workers.
 */
export function treeCpuSeconds(pid) {
  let total = 0;
  for (const p of processTree(pid)) {
    try {
      const stat = fs.readFileSync(`/proc/${p}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      // utime, stime, cutime, cstime (fields 14-17)
      total += (Number(fields[11]) + Number(fields[12]) + Number(fields[13]) + Number(fields[14])) / CLK_TCK;
    } catch {
      // Exited between the listing and the read: its time moves to its parent's cutime.
    }
  }
  return total;
}

/**
 * Memory of a whole process tree in MB as the sum of each process's PSS, which splits shared
 * pages between the processes mapping them: summing RSS over 100 forked smtpd would count the
 * same libraries 100 times.
 */
export function treePssMb(pid) {
  let kb = 0;
  for (const p of processTree(pid)) {
    try {
      const m = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${p}/smaps_rollup`, 'utf8'));
      if (m) kb += Number(m[1]);
    } catch {
      // Exited meanwhile.
    }
  }
  return kb / 1024;
}

/**
 * Calls `measure()` every `intervalMs` and keeps the largest value: the peak of a figure the
 * kernel does not track for us (a process tree's memory). `peak()` reads it, `stop()` ends it.
 */
export function peakSampler(measure, intervalMs = 500) {
  let peak = measure() ?? 0;
  const timer = setInterval(() => {
    peak = Math.max(peak, measure() ?? 0);
  }, intervalMs);
  timer.unref();
  return {
    peak: () => Math.max(peak, measure() ?? 0),
    stop: () => clearInterval(timer),
  };
}
