// IMAP: Mailroom's apps/imap beside Dovecot, the same mail and the same client in the same run.
//
//   npm run build && node bench/imap.mjs          (10,000-message FETCH folder, 100,000-message
//                                                  SEARCH mailbox, 5,000 IDLE sessions; ~15 min)
//   node bench/imap.mjs --quick                   (1,000 / 10,000 / 500)
//   flags: --fetch N  --search N  --idle M  --sessions K (FETCH, default 4)  --batch 25 (UIDs per FETCH)
//          --repeats R (per SEARCH)  --login-seconds S  --login-sessions L  --targets mailroom,dovecot
//          --log-level warn  --keep (keep the database and the Dovecot folder)
//          --profile DIR (CPU profiles of the Mailroom process, for chrome://inspect or speedscope)
//          --imap-workers N (Mailroom's IMAP_WORKERS; default: one per core)
//          --blob-store s3 (Mailroom's bodies moved to an s3rver in this process after the seed,
//          with blobs:migrate's use case: every body, BLOB_S3_MIN_BYTES=0; see bench/lib/s3.mjs)
//
// Fixtures (bench/lib/imap-seed.mjs): one tenant; bench@ holds the SEARCH corpus in INBOX and
// the FETCH corpus in "Fetch", written as bulk SQL for Mailroom and as Maildir files (same
// UIDs, flags, internal dates) for a private Dovecot (bench/lib/dovecot.mjs); login users with
// full-cost argon2id hashes (the same strings in both), IDLE users with cheap ones.
// Each server starts three times: IDLE memory on a fresh process; FETCH, SEARCH and login rate
// with the auth cache on a second (IDLE's forced GCs would leave it in a state no serving
// process is in); login rate with the auth cache off on a third. The client (bench/lib/imap-client.mjs)
// is a raw-socket IMAP client that counts literal bytes instead of keeping them.
//
// Memory: Dovecot's default mode runs two processes per TLS session (~2 MB of PSS together), so
// 5,000 IDLE sessions need ~12 GB available; its IDLE row is refused (marked failed) below that.
// Open sockets: the IDLE run holds M client sockets in this process and M in the server, so
// `ulimit -n` must be above M + a few hundred (checked below; raise it in the shell that runs
// the benchmark: `ulimit -n 20000`). Dovecot needs root (its master binds and changes user).
import { execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import pg from 'pg';
import { sinceDate, SEARCH_TERMS } from './lib/imap-corpus.mjs';
import { chownMail, createDovecotDir, dovecotStatus, startDovecot } from './lib/dovecot.mjs';
import {
  createBenchDatabase,
  dbCpuDelta,
  dbCpuSnapshot,
  freePort,
  processTree,
  serviceUrls,
  startNode,
  startScriptFlags,
  treeCpuSeconds,
} from './lib/env.mjs';
import { measureFetch, measureIdle, measureLogins, measureSearch, memoryOf } from './lib/imap-load.mjs';
import { seedBoth } from './lib/imap-seed.mjs';
import { startBenchS3 } from './lib/s3.mjs';
import {
  fmt,
  log,
  machine,
  machineLine,
  markdownTable,
  parseFlags,
  ratio,
  root,
  saveResults,
  sleep,
} from './lib/report.mjs';

const MAILROOM_MAIN = path.join(root, 'dist/apps/imap/src/main.js');
const IDLE_PER_USER = 10;

function settings(flags) {
  const quick = !!flags.quick;
  return {
    fetchCount: Number(flags.fetch ?? (quick ? 1000 : 10_000)),
    searchCount: Number(flags.search ?? (quick ? 10_000 : 100_000)),
    idle: Number(flags.idle ?? (quick ? 500 : 5000)),
    sessions: Number(flags.sessions ?? 4),
    batch: Number(flags.batch ?? 25),
    repeats: Number(flags.repeats ?? (quick ? 10 : 20)),
    loginSeconds: Number(flags['login-seconds'] ?? (quick ? 5 : 15)),
    loginSessions: Number(flags['login-sessions'] ?? 4),
    loginUsers: Number(flags['login-users'] ?? 8),
    targets: String(flags.targets ?? 'mailroom,dovecot').split(','),
    logLevel: String(flags['log-level'] ?? 'warn'),
    keep: !!flags.keep,
    // --profile DIR: Mailroom runs with --cpu-prof into DIR (one .cpuprofile per process start).
    profile: flags.profile ? path.resolve(String(flags.profile)) : null,
    // IMAP_WORKERS of the Mailroom server: one per core by default, as a provider runs it (and as
    // Dovecot runs a process per session); --imap-workers 1 shows one process.
    imapWorkers: Number(flags['imap-workers'] ?? os.availableParallelism()),
    blobStore: flags['blob-store'] === 's3' ? 's3' : 'db',
  };
}

function queries() {
  return [
    { name: 'SUBJECT', criteria: `SUBJECT ${SEARCH_TERMS.subject}`, key: 'subject' },
    { name: 'FROM', criteria: `FROM ${SEARCH_TERMS.from}`, key: 'from' },
    { name: 'BODY', criteria: `BODY ${SEARCH_TERMS.body}`, key: 'body' },
    { name: 'SINCE', criteria: `SINCE ${sinceDate().imap}`, key: 'since' },
    { name: 'UNSEEN', criteria: 'UNSEEN', key: 'unseen' },
  ];
}

/** MemAvailable from /proc/meminfo, in MB. */
function availableMb() {
  const m = /MemAvailable:\s+(\d+) kB/.exec(fs.readFileSync('/proc/meminfo', 'utf8'));
  return m ? Number(m[1]) / 1024 : Infinity;
}

/** The soft limit on open files of this process (its children inherit it). */
function openFileLimit() {
  const m = /Max open files\s+(\d+)/.exec(fs.readFileSync('/proc/self/limits', 'utf8'));
  return m ? Number(m[1]) : null;
}

/**
 * One self-signed certificate (RSA 2048, like the app's own fallback) for both servers: Mailroom
 * offers LOGIN only under TLS (LOGINDISABLED in plaintext), so both are measured over IMAPS.
 */
function selfSignedCertificate(dir) {
  const cert = path.join(dir, 'tls-cert.pem');
  const key = path.join(dir, 'tls-key.pem');
  execFileSync(
    'openssl',
    [
      'req',
      '-x509',
      '-newkey',
      'rsa:2048',
      '-nodes',
      '-keyout',
      key,
      '-out',
      cert,
      '-days',
      '2',
      '-subj',
      '/CN=imap.bench.test',
    ],
    { stdio: 'pipe' },
  );
  return { cert, key };
}

function mailroomStatus() {
  if (!fs.existsSync(MAILROOM_MAIN)) {
    return { ok: false, why: 'dist/apps/imap/src/main.js is missing (apps/imap not built: `npm run build`)' };
  }
  return { ok: true };
}

/**
 * The seed wrote hundreds of MB (rows for PostgreSQL, Maildir files for Dovecot) that the
 * checkpointer and the kernel would otherwise flush during the first target's measurements,
 * on the same 2 cores: Mailroom, measured first, paid for both. A checkpoint and a sync first.
 */
async function flushSeedWrites(url) {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('CHECKPOINT');
  } finally {
    await client.end();
  }
  execFileSync('sync');
}

async function startMailroom({ db, authCache, logLevel, tls, profileDir, workers, s3Env }) {
  const { redisUrl } = serviceUrls();
  const port = await freePort();
  const imapsPort = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-imap-'));
  const memoryFile = path.join(dataDir, 'memory.json');
  // As shipped: the environment and node flags of `npm run start:imap`.
  const shipped = startScriptFlags('start:imap');
  const proc = await startNode(MAILROOM_MAIN, {
    label: 'imap',
    port: imapsPort,
    nodeArgs: [...shipped.nodeArgs, ...(profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [])],
    env: {
      ...shipped.env,
      NODE_ENV: 'development',
      LOG_LEVEL: logLevel,
      DATABASE_URL: db.url,
      REDIS_URL: redisUrl,
      QUEUE_PREFIX: `mrbench${randomBytes(3).toString('hex')}`,
      MASTER_KEY: randomBytes(32).toString('hex'),
      MX_HOSTNAME: 'mx.mailroom.bench.test',
      // The GC hook: SIGUSR2 runs a full GC and writes process.memoryUsage() (see gc-hook.mjs).
      NODE_OPTIONS: `--import ${pathToFileURL(path.join(root, 'bench/lib/gc-hook.mjs')).href}`,
      BENCH_MEMORY_FILE: memoryFile,
      DATA_DIR: dataDir,
      IMAP_HOST: '127.0.0.1',
      IMAP_PORT: String(port),
      IMAPS_PORT: String(imapsPort),
      TLS_CERT_PATH: tls.cert,
      TLS_KEY_PATH: tls.key,
      POP3_PORT: String(await freePort()),
      POP3S_PORT: String(await freePort()),
      IMAP_HEALTH_PORT: String(await freePort()),
      // Every benchmark session comes from 127.0.0.1. Dovecot's limit is per user and address
      // (mail_max_userip_connections 10, which 10 IDLE sessions per user stay within).
      IMAP_MAX_CONNECTIONS_PER_IP: '100000',
      IMAP_WORKERS: String(workers),
      ...(authCache ? {} : { AUTH_CACHE_SIZE: '0' }),
      // --blob-store s3: BLOB_STORE=s3 and the S3_* settings of the bench's s3rver.
      ...s3Env,
    },
  });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  return {
    port: imapsPort,
    secure: true,
    workers,
    /** Memory after a full GC: the server's RSS/PSS plus its V8 heap and external memory. */
    async memory() {
      // Every process of the server (a cluster's primary and workers) collects and reports.
      const pids = processTree(proc.pid);
      const files = pids.map((pid) => `${memoryFile}.${pid}`);
      for (const f of files) fs.rmSync(f, { force: true });
      for (const pid of pids) process.kill(pid, 'SIGUSR2');
      for (let i = 0; i < 50 && !files.every((f) => fs.existsSync(f)); i++) await sleep(100);
      await sleep(500);
      const readings = files.filter((f) => fs.existsSync(f)).map((f) => JSON.parse(fs.readFileSync(f, 'utf8')));
      const sum = (key) =>
        readings.length === pids.length ? readings.reduce((a, r) => a + r[key], 0) / 2 ** 20 : null;
      return { ...memoryOf(pids), heapUsedMb: sum('heapUsed'), externalMb: sum('external') };
    },
    backends: async () =>
      (await client.query('SELECT count(*)::int AS n FROM pg_stat_activity WHERE datname = $1', [db.name])).rows[0].n -
      1,
    meter: {
      snapshot: async () => ({ server: treeCpuSeconds(proc.pid), db: await dbCpuSnapshot(client, db.name) }),
      delta: (a, b) => ({ server: b.server - a.server, db: dbCpuDelta(a.db, b.db) }),
    },
    async stop() {
      await client.end();
      await proc.stop();
      fs.rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

async function startDovecotTarget({ dir, users, authCache, idle, tls, loginMode }) {
  const dc = await startDovecot({ dir, users, tls, authCache, maxConnections: idle + 100, loginMode });
  return {
    port: dc.imapsPort,
    secure: true,
    version: dc.version,
    memory: async () => memoryOf(dc.processes()),
    backends: async () => null,
    meter: {
      snapshot: async () => ({ server: treeCpuSeconds(dc.pid), db: null }),
      delta: (a, b) => ({ server: b.server - a.server, db: null }),
    },
    stop: () => dc.stop(),
  };
}

/**
 * Runs one measurement; a failure is recorded on the row ({ error }) and logged, and the next
 * measurement still runs (a new server's missing command costs its cells, not the run).
 */
async function attempt(target, what, run) {
  try {
    return await run();
  } catch (err) {
    log(`${target}: ${what} failed: ${err.message}`);
    return { error: err.message.split('\n')[0] };
  }
}

async function idlePhase(target, server, s, fixtures) {
  log(`${target}: IDLE, ${fmt(s.idle)} sessions`);
  const backendsBefore = await server.backends();
  const idle = await measureIdle({
    port: server.port,
    secure: server.secure,
    users: fixtures.idleUsers,
    perUser: IDLE_PER_USER,
    connections: s.idle,
    processes: server.workers ?? 1,
    memory: server.memory,
    backends: server.backends,
  });
  // Mailroom's sessions must share the process's pool: more backends would be memory we miss.
  idle.dbBackends = backendsBefore === null ? null : { before: backendsBefore, during: idle.backendsDuring };
  log(
    `  ${idle.open} open, ${fmt(idle.rssKbPerConnection, 1)} KB RSS, ${fmt(idle.pssKbPerConnection, 1)} KB PSS per session`,
  );
  return idle;
}

async function fetchPhase(target, server, s, fixtures) {
  log(`${target}: FETCH, ${s.sessions} sessions × ${fmt(s.fetchCount)} messages`);
  const fetch = await measureFetch({
    port: server.port,
    secure: server.secure,
    user: fixtures.main,
    folder: 'Fetch',
    count: s.fetchCount,
    sessions: s.sessions,
    batch: s.batch,
    meter: server.meter,
  });
  fetch.expected = { messages: s.sessions * s.fetchCount, bytes: s.sessions * fixtures.expected.fetch.bytes };
  fetch.complete = fetch.messages === fetch.expected.messages && fetch.bytes === fetch.expected.bytes;
  log(
    `  ${fmt(fetch.msgPerSec, 0)} msg/s, ${fmt(fetch.mbPerSec, 1)} MB/s, client CPU ${fmt(fetch.clientCpuShare * 100, 0)} %` +
      (fetch.complete ? '' : ' INCOMPLETE'),
  );
  return fetch;
}

async function searchPhase(target, server, s, fixtures) {
  log(`${target}: SEARCH in ${fmt(s.searchCount)} messages, ${s.repeats} repeats`);
  const rows = await measureSearch({
    port: server.port,
    secure: server.secure,
    user: fixtures.main,
    folder: 'INBOX',
    queries: queries(),
    repeats: s.repeats,
  });
  for (const q of rows) {
    q.expected = fixtures.expected.search[queries().find((x) => x.name === q.name).key];
    if (q.error) log(`  ${q.name}: failed: ${q.error}`);
    else log(`  ${q.name}: ${q.hits} hits (expected ${q.expected}), p50 ${fmt(q.p50Ms, 1)} ms`);
  }
  return rows;
}

async function loginPhase(target, server, s, fixtures, cache) {
  log(`${target}: logins, auth cache ${cache}, ${s.loginSeconds} s`);
  const r = await measureLogins({
    port: server.port,
    secure: server.secure,
    users: fixtures.loginUsers,
    sessions: s.loginSessions,
    seconds: s.loginSeconds,
    meter: server.meter,
  });
  log(
    `  ${fmt(r.perSec, 1)} logins/s, p50 ${fmt(r.p50Ms, 0)} ms (${r.failed} failed${r.firstError ? `: ${r.firstError}` : ''})`,
  );
  return r;
}

/** One server: IDLE on a fresh process; FETCH, SEARCH and logins with the auth cache on another; then logins without. */
async function measureTarget(target, s, fixtures, ctx) {
  const start = (authCache) =>
    target === 'mailroom'
      ? startMailroom({
          db: ctx.db,
          authCache,
          logLevel: s.logLevel,
          tls: ctx.tls,
          profileDir: s.profile,
          workers: s.imapWorkers,
          s3Env: ctx.s3?.env ?? {},
        })
      : startDovecotTarget({ ...ctx.dovecotArgs, authCache });
  const row = { target };
  // IDLE runs on a server of its own: its memory readings force full garbage collections
  // (bench/lib/gc-hook.mjs), after which V8 sizes the Node heap tightly and, under FETCH's stream of
  // Buffers, marks and compacts the old generation every ~100 ms for several seconds (seen with
  // --trace-gc; docs/performance.md): a state the bench made, not one a serving process is in.
  let server = await start(true);
  try {
    if (server.version) row.version = server.version;
    row.idle = await attempt(target, 'IDLE', () => {
      // Dovecot's default mode holds two processes per TLS session (~2 MB of PSS together here):
      // 5,000 sessions need ~10 GB; refuse rather than push a shared machine into the OOM killer.
      const needMb = target === 'dovecot' ? s.idle * 2.5 + 2048 : 0;
      if (needMb > availableMb()) {
        throw new Error(`needs ~${fmt(needMb / 1024, 1)} GB free, ${fmt(availableMb() / 1024, 1)} GB available`);
      }
      return idlePhase(target, server, s, fixtures);
    });
  } finally {
    await server.stop();
  }
  server = await start(true);
  try {
    row.fetch = await attempt(target, 'FETCH', () => fetchPhase(target, server, s, fixtures));
    row.search = await attempt(target, 'SEARCH', () => searchPhase(target, server, s, fixtures));
    row.loginCached = await attempt(target, 'login', () => loginPhase(target, server, s, fixtures, 'on'));
  } finally {
    await server.stop();
  }
  server = await start(false);
  try {
    row.loginUncached = await attempt(target, 'login', () => loginPhase(target, server, s, fixtures, 'off'));
  } finally {
    await server.stop();
  }
  if (target === 'dovecot') {
    // The same IDLE run against Dovecot's high-performance login mode, which large sites use.
    server = await startDovecotTarget({ ...ctx.dovecotArgs, authCache: true, loginMode: 'performance' });
    // Its imap processes alone take ~0.6 MB of PSS per session.
    const needMb = s.idle * 0.8 + 2048;
    try {
      row.idlePerformance = await attempt(target, 'IDLE', () => {
        if (needMb > availableMb()) {
          throw new Error(`needs ~${fmt(needMb / 1024, 1)} GB free, ${fmt(availableMb() / 1024, 1)} GB available`);
        }
        return idlePhase(`${target} (login performance mode)`, server, s, fixtures);
      });
    } finally {
      await server.stop();
    }
  }
  return row;
}

const check = (ok) => (ok ? ' ✓' : ' ✗');

/** measurement | Mailroom | Dovecot | Mailroom ÷ Dovecot | better */
export function imapTable(rows, { bodies = null } = {}) {
  const m = rows.find((r) => r.target === 'mailroom');
  const d = rows.find((r) => r.target === 'dovecot');
  const out = [];
  // `part` names the measurement a line comes from: when it failed ({ error }), the cell says so.
  const ok = (r, part) => r && !r.skipped && r[part] && !r[part].error;
  const line = (label, part, get, show, better, digits = 1) => {
    const a = ok(m, part) ? get(m) : null;
    const b = ok(d, part) ? get(d) : null;
    const cell = (r, v) => {
      if (!r) return '–';
      if (r.skipped) return 'skipped';
      return ok(r, part) ? show(r, v, digits) : 'failed';
    };
    out.push([label, cell(m, a), cell(d, b), ratio(a, b), better]);
  };
  const plain = (r, v, digits) => fmt(v, digits);
  const fetch = [m, d].find((r) => ok(r, 'fetch'))?.fetch;
  const fetchCheck = (r, v, digits) => `${fmt(v, digits)}${check(r.fetch.complete)}`;
  const label = fetch ? ` (${fetch.sessions} sessions, ${fetch.batch} per FETCH)` : '';
  line(`FETCH BODY.PEEK[] msg/s${label}`, 'fetch', (r) => r.fetch.msgPerSec, fetchCheck, 'higher', 0);
  line('FETCH MB/s', 'fetch', (r) => r.fetch.mbPerSec, plain, 'higher');
  line(
    'FETCH first pass msg/s (1 session, nothing cached yet)',
    'fetch',
    (r) => r.fetch.firstPass.msgPerSec,
    plain,
    'higher',
    0,
  );
  line('FETCH p95 ms per command', 'fetch', (r) => r.fetch.batchP95Ms, plain, 'lower');
  line(
    'FETCH server CPU ms/msg (Mailroom: + PostgreSQL)',
    'fetch',
    (r) => r.fetch.cpuMsPerMsg + (r.fetch.dbCpuMsPerMsg ?? 0),
    plain,
    'lower',
    2,
  );
  line('FETCH load generator CPU, % of one core', 'fetch', (r) => r.fetch.clientCpuShare * 100, plain, 'lower', 0);
  const searched = [m, d].find((r) => ok(r, 'search'))?.search;
  for (const name of ['SUBJECT', 'FROM', 'BODY', 'SINCE', 'UNSEEN']) {
    const q = (r) => r.search.find((x) => x.name === name);
    const hits = searched?.find((x) => x.name === name && !x.error);
    const show = (r, v, digits) => {
      const x = q(r);
      if (x.error) return `failed: ${x.error.replace(/^.*? (BAD|NO) /, '$1 ').replace(/\|/g, '/')}`;
      const wrong = x.hits === x.expected ? '' : ` ✗ ${x.hits} hits`;
      return `${fmt(v, digits)} / ${fmt(x.p95Ms, digits)} (first ${fmt(x.firstMs, 0)})${wrong}`;
    };
    const about = hits ? ` (${fmt(hits.expected)} hits)` : '';
    line(`SEARCH ${name} p50 / p95 ms${about}`, 'search', (r) => q(r).p50Ms ?? null, show, 'lower');
  }
  const idle = [m, d].find((r) => ok(r, 'idle'))?.idle;
  const idleShow = (r, v, digits) =>
    `${fmt(v, digits)}${r.idle.open === r.idle.connections ? '' : ` (${r.idle.open} open)`}`;
  const sessions = idle ? ` (${fmt(idle.connections)} sessions)` : '';
  line(`IDLE KB per session, RSS${sessions}`, 'idle', (r) => r.idle.rssKbPerConnection, idleShow, 'lower');
  line('IDLE KB per session, PSS', 'idle', (r) => r.idle.pssKbPerConnection, idleShow, 'lower');
  line(
    'IDLE KB per session, PSS; Dovecot login high-performance mode',
    'idle',
    (r) => (r.target === 'dovecot' ? r.idlePerformance?.pssKbPerConnection : r.idle.pssKbPerConnection),
    (r, v, digits) => fmt(v, digits),
    'lower',
  );
  line(
    'IDLE KB per session, V8 heap used (after GC)',
    'idle',
    (r) => r.idle.heapKbPerConnection ?? null,
    (r, v, digits) => fmt(v, digits),
    'lower',
  );
  line('LOGIN+LOGOUT /s, auth cache on', 'loginCached', (r) => r.loginCached.perSec, plain, 'higher');
  line('LOGIN+LOGOUT p50 ms, auth cache on', 'loginCached', (r) => r.loginCached.p50Ms, plain, 'lower', 0);
  line('LOGIN+LOGOUT /s, auth cache off', 'loginUncached', (r) => r.loginUncached.perSec, plain, 'higher');
  line('LOGIN+LOGOUT p50 ms, auth cache off', 'loginUncached', (r) => r.loginUncached.p50Ms, plain, 'lower', 0);
  return markdownTable(
    [
      'measurement',
      bodies ? `Mailroom (bodies in ${bodies})` : 'Mailroom',
      `Dovecot${d?.version ? ` ${d.version}` : ''}`,
      'Mailroom ÷ Dovecot',
      'better',
    ],
    out,
  );
}

async function main() {
  const flags = parseFlags();
  const s = settings(flags);
  const status = { mailroom: mailroomStatus(), dovecot: dovecotStatus() };
  const limit = openFileLimit();
  if (limit !== null && limit < s.idle + 500) {
    throw new Error(
      `ulimit -n is ${limit}: the IDLE run needs ${s.idle + 500} (run \`ulimit -n 20000\` first, or --idle ${limit - 500})`,
    );
  }
  const db = await createBenchDatabase('imap', { keep: s.keep });
  const dovecotDir = createDovecotDir();
  const rows = [];
  let fixtures;
  let s3 = null;
  let bodies = null;
  try {
    const idleUsers = Math.ceil(s.idle / IDLE_PER_USER);
    log(
      `seeding: ${fmt(s.searchCount)} + ${fmt(s.fetchCount)} messages, ${s.loginUsers} login and ${idleUsers} IDLE users`,
    );
    const t0 = Date.now();
    fixtures = await seedBoth(db.url, dovecotDir, {
      searchCount: s.searchCount,
      fetchCount: s.fetchCount,
      loginUsers: s.loginUsers,
      idleUsers,
    });
    chownMail(dovecotDir.dir);
    if (s.blobStore === 's3') {
      // Every body to S3, as an operator moves them (BLOB_S3_MIN_BYTES=0: FETCH reads each from S3).
      s3 = await startBenchS3('0');
      const t1 = Date.now();
      bodies = await s3.moveBodies(db.url);
      log(`moved ${fmt(bodies.s3?.blobs ?? 0)} bodies to S3 in ${((Date.now() - t1) / 1000).toFixed(1)} s`);
    }
    await flushSeedWrites(db.url);
    log(`seeded in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const users = [fixtures.main, ...fixtures.loginUsers, ...fixtures.idleUsers];
    const tls = selfSignedCertificate(dovecotDir.dir);
    for (const target of s.targets) {
      if (!status[target]?.ok) {
        log(`${target} skipped: ${status[target]?.why ?? 'unknown target'}`);
        rows.push({ target, skipped: true, why: status[target]?.why });
        continue;
      }
      const dovecotArgs = { dir: dovecotDir.dir, users, idle: s.idle, tls };
      rows.push(await measureTarget(target, s, fixtures, { db, dovecotArgs, tls, s3 }));
    }
  } finally {
    await s3?.close();
    await db.drop();
    if (s.keep) log(`kept ${dovecotDir.dir} (--keep)`);
    else dovecotDir.remove();
  }

  const fetchKb = fixtures.expected.fetch.bytes / s.fetchCount / 1024;
  const searchKb = fixtures.expected.search.bytes / s.searchCount / 1024;
  const skipped = rows.filter((r) => r.skipped).map((r) => `${r.target}: ${r.why}`);
  const bad = rows.some(
    (r) =>
      !r.skipped &&
      (!r.fetch?.complete ||
        !Array.isArray(r.search) ||
        r.search.some((q) => q.error || q.hits !== q.expected) ||
        !(r.idle?.open >= r.idle?.connections) ||
        [r.loginCached, r.loginUncached].some((l) => l.error || l.failed > 0)),
  );
  const errors = rows.flatMap((r) => [
    ...['idle', 'idlePerformance', 'fetch', 'search', 'loginCached', 'loginUncached']
      .filter((k) => r[k]?.error)
      .map((k) => `${r.target} ${k}: ${r[k].error}`),
    ...(Array.isArray(r.search)
      ? r.search.filter((q) => q.error).map((q) => `${r.target} SEARCH ${q.name}: ${q.error}`)
      : []),
  ]);
  const markdown = [
    `### IMAP: FETCH from ${fmt(s.fetchCount)} messages, SEARCH in ${fmt(s.searchCount)}, ${fmt(s.idle)} IDLE sessions`,
    '',
    `Machine: ${machineLine(machine())}. Both servers hold the same messages (same UIDs, flags and`,
    `internal dates): FETCH folder ${fmt(fetchKb, 1)} KB average (75 % 1-8 KB, 20 % 10-40 KB, 5 % 100 KB with an`,
    `attachment), SEARCH mailbox ${fmt(searchKb, 1)} KB average. The same raw-socket client for both, over IMAPS`,
    '(implicit TLS, one self-signed RSA 2048 certificate for both: Mailroom offers LOGIN only under TLS).',
    'FETCH: after one session has read the whole folder once (the "first pass" row) and every session',
    'once more untimed (the warm-up: each server process and database connection in use), each session',
    'reads it again, timed (UID FETCH a:b (BODY.PEEK[])); ✓ = every message and byte arrived. SEARCH: one',
    'session, UID SEARCH repeated; "first" = the first run (Dovecot builds its index and cache then);',
    '✗ = hits differ from what the corpus holds. IDLE, on a server started for it (after one session in each',
    'of its processes): (memory after − before) ÷',
    `sessions, ${IDLE_PER_USER} sessions per user, each SELECT INBOX (20 messages) + IDLE; Dovecot summed over all its`,
    'processes (per TLS session an imap process and the imap-login process that proxies its TLS); PSS',
    `splits shared pages between processes. Logins: connect (TLS) + LOGIN + LOGOUT, ${s.loginSessions} in parallel,`,
    `${s.loginUsers} users in turn, argon2id m=64 MiB t=3 p=1 (the same hash strings in both; the API's default`,
    "is p=4, which libsodium cannot verify). Dovecot's auth cache saves the passdb lookup but still",
    'verifies the password against the cached hash; Mailroom keys its cache by an HMAC of the password.',
    `Dovecot${rows.find((r) => r.version)?.version ? ` ${rows.find((r) => r.version).version}` : ''}: a private instance with its default process model (high-security: a login`,
    'process per connection, an imap process per session), no FTS plugin, indexes in the Maildir,',
    'auth_cache_size 10M / 0; the "high-performance" IDLE row repeats the run with imap-login',
    'service_count = 0 (a few login processes proxy every TLS session). Mailroom: the built apps/imap',
    `with IMAP_WORKERS=${s.imapWorkers} (${s.imapWorkers > 1 ? 'a primary and that many worker processes; memory and CPU summed over all' : 'one process'}),`,
    'AUTH_CACHE_SIZE default / 0; CPU includes its PostgreSQL backends; messages stored as',
    'after the worker parse (SEARCH text set); memory read after a full GC (bench/lib/gc-hook.mjs,',
    'preloaded). Its RSS holds ~150-200 MB from start-up that new sessions partly reuse, so with few',
    'sessions the RSS difference understates; the V8 heap row counts the objects the sessions hold.',
    s3
      ? `Mailroom's bodies: in S3 (${fmt(bodies.s3?.blobs ?? 0)} objects, s3rver on loopback in the bench process, moved after the seed by blobs:migrate's use case; ${fmt(bodies.db?.blobs ?? 0)} left in PostgreSQL), BLOB_STORE=s3.`
      : "Mailroom's bodies: in PostgreSQL (message_blobs.bytes), BLOB_STORE=db.",
    ...(skipped.length ? ['', `Skipped: ${skipped.join('; ')}`] : []),
    ...(errors.length ? ['', `Failed: ${errors.join('; ')}`] : []),
    '',
    imapTable(rows, { bodies: s3 ? 'S3' : null }),
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const files = saveResults(
    s3 ? 'imap-s3' : 'imap',
    { settings: s, expected: fixtures.expected, bodies, rows },
    markdown,
  );
  log(`saved ${files.json} and ${files.md}`);
  if (bad) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
