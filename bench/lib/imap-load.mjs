// The IMAP benchmark's measurements, the same client code against any server on a port:
// FETCH throughput, SEARCH latency, memory per IDLE session and login rate. Each takes a
// `meter` ({ snapshot(): Promise<s>, delta(a, b): { server, db } } in CPU seconds) and, for
// IDLE, an async `memory()` ({ rssMb, pssMb, processes, heapUsedMb?, externalMb? }) of the server.
import fs from 'node:fs';
import { ImapConnection, searchUids } from './imap-client.mjs';
import { percentile, sleep } from './report.mjs';

/** Sum of VmRSS and of PSS (shared pages split between the processes mapping them) over `pids`, in MB. */
export function memoryOf(pids) {
  let rssKb = 0;
  let pssKb = 0;
  let processes = 0;
  for (const pid of pids) {
    try {
      const rss = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'));
      const pss = /^Pss:\s+(\d+) kB/m.exec(fs.readFileSync(`/proc/${pid}/smaps_rollup`, 'utf8'));
      rssKb += rss ? Number(rss[1]) : 0;
      pssKb += pss ? Number(pss[1]) : 0;
      processes++;
    } catch {
      // exited meanwhile
    }
  }
  return { rssMb: rssKb / 1024, pssMb: pssKb / 1024, processes };
}

/** Runs `task(i)` for i in 0..n-1, at most `limit` at a time; resolves with the results in order. */
export async function pool(n, limit, task) {
  const results = new Array(n);
  let next = 0;
  const worker = async () => {
    while (next < n) {
      const i = next++;
      results[i] = await task(i);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, n) }, worker));
  return results;
}

async function session(port, user, folder, { examine = true, secure = false } = {}) {
  const c = await ImapConnection.connect(port, { secure });
  await c.login(user.login, user.password);
  if (folder) await c.command(`${examine ? 'EXAMINE' : 'SELECT'} ${folder}`);
  return c;
}

const ms = (t0) => performance.now() - t0;

/**
 * `sessions` sessions each fetch every message of `folder` (`count` messages, UIDs 1..count) as
 * BODY.PEEK[] in UID ranges of `batch`, each session starting at a different place in the
 * folder. Timed from the first command to the last reply, after every session has logged in and
 * opened the folder, one session has read the whole folder once (timed apart as firstPass) and
 * then every session has (untimed, the warm-up). Bytes are the literal bytes received.
 */
export async function measureFetch({ port, secure, user, folder, count, sessions, batch, meter }) {
  const conns = await Promise.all(Array.from({ length: sessions }, () => session(port, user, folder, { secure })));
  try {
    const ranges = [];
    for (let a = 1; a <= count; a += batch) ranges.push(`${a}:${Math.min(count, a + batch - 1)}`);
    // First pass, one session, whole folder: what a server pays on first access (Dovecot builds
    // its index/cache; Mailroom needs no MIME structure for BODY[], so it parses nothing), timed apart.
    const first = { messages: 0, bytes: 0 };
    const f0 = performance.now();
    for (const range of ranges) {
      const r = await conns[0].command(`UID FETCH ${range} (BODY.PEEK[])`);
      first.messages += r.untaggedCount;
      first.bytes += r.literalBytes;
    }
    first.seconds = ms(f0) / 1000;
    first.msgPerSec = first.messages / first.seconds;
    // Every session reads the folder once more, untimed: with several server processes (or
    // PostgreSQL connections) the first pass warmed only the one its session is on, and a process
    // that has served for minutes has its code compiled and its connections open.
    const pass = async (latencies) => {
      let messages = 0;
      let bytes = 0;
      await Promise.all(
        conns.map(async (c, s) => {
          const offset = Math.floor((s * ranges.length) / sessions);
          for (let k = 0; k < ranges.length; k++) {
            const t = performance.now();
            const r = await c.command(`UID FETCH ${ranges[(offset + k) % ranges.length]} (BODY.PEEK[])`);
            latencies?.push(ms(t));
            messages += r.untaggedCount;
            bytes += r.literalBytes;
          }
        }),
      );
      return { messages, bytes };
    };
    const w0 = performance.now();
    const warm = await pass(null);
    const warmup = { messages: warm.messages, seconds: ms(w0) / 1000 };
    warmup.msgPerSec = warmup.messages / warmup.seconds;
    const latencies = [];
    const before = await meter.snapshot();
    const client0 = process.cpuUsage();
    const t0 = performance.now();
    const { messages, bytes } = await pass(latencies);
    const seconds = ms(t0) / 1000;
    const client = process.cpuUsage(client0);
    const cpu = meter.delta(before, await meter.snapshot());
    return {
      sessions,
      batch,
      firstPass: first,
      warmup,
      messages,
      bytes,
      seconds,
      msgPerSec: messages / seconds,
      mbPerSec: bytes / 2 ** 20 / seconds,
      batchP50Ms: percentile(latencies, 0.5),
      batchP95Ms: percentile(latencies, 0.95),
      cpuMsPerMsg: (cpu.server * 1000) / messages,
      dbCpuMsPerMsg: cpu.db === null ? null : (cpu.db * 1000) / messages,
      // The load generator's own CPU: near one core means it, not the server, sets the pace.
      clientCpuShare: (client.user + client.system) / 1e6 / seconds,
    };
  } finally {
    await Promise.all(conns.map((c) => c.logout()));
  }
}

async function searchOne(c, q, repeats) {
  let t = performance.now();
  const first = await c.command(`UID SEARCH ${q.criteria}`);
  const firstMs = ms(t);
  const hits = searchUids(first).length;
  const latencies = [];
  for (let i = 0; i < repeats; i++) {
    t = performance.now();
    const r = await c.command(`UID SEARCH ${q.criteria}`);
    latencies.push(ms(t));
    if (searchUids(r).length !== hits) throw new Error(`${q.name}: ${hits} hits, then ${searchUids(r).length}`);
  }
  return { hits, firstMs, p50Ms: percentile(latencies, 0.5), p95Ms: percentile(latencies, 0.95), repeats };
}

/**
 * Each query of `queries` ([{ name, criteria }]) as UID SEARCH in `folder`, once first
 * (timed apart as firstMs: a server may build an index or cache on it), then `repeats` times
 * one after the other in one session; latency from command to tagged OK.
 */
export async function measureSearch({ port, secure, user, folder, queries, repeats }) {
  const c = await session(port, user, folder, { secure });
  try {
    const rows = [];
    for (const q of queries) {
      try {
        rows.push({ name: q.name, criteria: q.criteria, ...(await searchOne(c, q, repeats)) });
      } catch (err) {
        // One unsupported key costs its row (BAD), not the other queries.
        rows.push({ name: q.name, criteria: q.criteria, error: err.message });
      }
    }
    return rows;
  } finally {
    await c.logout();
  }
}

/**
 * Opens `connections` sessions (LOGIN, SELECT INBOX, IDLE), `perUser` per user of `users`,
 * `concurrency` at a time, and reads the server's memory before (after one warm-up session
 * has come and gone) and after (once all are idling and 3 s have passed); `backends()`, when
 * given, counts the server's database connections then.
 */
export async function measureIdle({
  port,
  secure,
  users,
  perUser,
  connections,
  memory,
  backends,
  concurrency = 50,
  processes = 1,
}) {
  // One session first in every server process (`processes` at once: a cluster hands connections
  // out in turn), so "before" holds each process's one-time start-up of a session (code, pools)
  // and the difference is what the sessions themselves hold.
  const warm = await Promise.all(
    Array.from({ length: processes }, () => session(port, users[0], 'INBOX', { examine: false, secure })),
  );
  await Promise.all(warm.map((c) => c.logout()));
  await sleep(1500);
  const before = await memory();
  const conns = [];
  let failed = 0;
  let firstError = null;
  const t0 = performance.now();
  await pool(connections, concurrency, async (i) => {
    try {
      const c = await session(port, users[Math.floor(i / perUser) % users.length], 'INBOX', { examine: false, secure });
      await c.idle();
      conns.push(c);
    } catch (err) {
      failed++;
      firstError ??= err.message;
    }
  });
  const openSeconds = ms(t0) / 1000;
  await sleep(3000);
  const after = await memory();
  const backendsDuring = backends ? await backends() : null;
  const open = conns.filter((c) => !c.closed).length;
  await pool(conns.length, 200, (i) => conns[i].destroy());
  const n = Math.max(1, open);
  return {
    connections,
    open,
    failed,
    firstError,
    openSeconds,
    backendsDuring,
    before,
    after,
    rssKbPerConnection: ((after.rssMb - before.rssMb) * 1024) / n,
    pssKbPerConnection: ((after.pssMb - before.pssMb) * 1024) / n,
    // V8 heap only: external memory (Buffers) moves with whatever else the process did meanwhile.
    heapKbPerConnection:
      typeof after.heapUsedMb === 'number' ? ((after.heapUsedMb - before.heapUsedMb) * 1024) / n : null,
  };
}

/**
 * `sessions` loops of connect, LOGIN, LOGOUT (to the server's tagged OK) over `users` in turn,
 * for `seconds`, after every user has logged in once untimed (the auth cache, when there is
 * one, is warm: every timed login is a cache hit).
 */
export async function measureLogins({ port, secure, users, sessions, seconds, meter }) {
  await pool(users.length, sessions, async (i) => (await session(port, users[i], null, { secure })).logout());
  const latencies = [];
  let failed = 0;
  let firstError = null;
  let next = 0;
  const before = await meter.snapshot();
  const t0 = performance.now();
  const deadline = t0 + seconds * 1000;
  await Promise.all(
    Array.from({ length: sessions }, async () => {
      while (performance.now() < deadline) {
        const user = users[next++ % users.length];
        const t = performance.now();
        try {
          const c = await ImapConnection.connect(port, { secure });
          await c.login(user.login, user.password);
          await c.logout();
          latencies.push(ms(t));
        } catch (err) {
          failed++;
          firstError ??= err.message;
        }
      }
    }),
  );
  const wall = ms(t0) / 1000;
  const cpu = meter.delta(before, await meter.snapshot());
  return {
    sessions,
    logins: latencies.length,
    failed,
    firstError,
    seconds: wall,
    perSec: latencies.length / wall,
    p50Ms: percentile(latencies, 0.5),
    p95Ms: percentile(latencies, 0.95),
    cpuMsPerLogin: latencies.length ? (cpu.server * 1000) / latencies.length : null,
    dbCpuMsPerLogin: cpu.db === null || !latencies.length ? null : (cpu.db * 1000) / latencies.length,
  };
}
