// Outbound: the built worker (dist/apps/worker/src/main.js, its own process) delivering to a
// local SMTP sink with DKIM signing on and status rows updated, against a raw baseline and, when
// installed, Postfix relaying to the same sink. Every target runs the same load in the same run.
//
//   npm run build && node bench/outbound.mjs            backlog of 2,000 (~2-4 min)
//   node bench/outbound.mjs --messages 10000            the issue's backlog
//   node bench/outbound.mjs --mode rate --rate 300 --duration 60
//   node bench/outbound.mjs --mode tempfail --fail-rate 0.1
//   node bench/outbound.mjs --mode retry                due retries under a backlog of new mail
//   node bench/outbound.mjs --quick                     (300 messages; rate mode: 10 s)
//
// Modes (--mode):
//   backlog   (default) N deliveries already in PostgreSQL (--messages, default 2,000) are queued
//             as BullMQ jobs at once; time until every status row says delivered.
//   rate      a producer submits messages at a fixed open rate (--rate per second for
//             --duration seconds): for the worker and the baseline, the rows submission commits
//             (blob, outbound message, queued delivery, its event) in one transaction, then the
//             job; for Postfix, an SMTP submission. Latency runs from the start of that
//             submission to the sink accepting the message (the sink stamps each recipient).
//             Then it waits up to --drain-timeout seconds (default 300) for the backlog left.
//   tempfail  the backlog, with the sink answering 451 4.3.0 to the first attempt of every
//             k-th recipient, k = 1 / --fail-rate (default 0.1); retries are counted, and every
//             message must reach the sink exactly once. Retry schedules are cut to one second:
//             the worker's DELIVERY_RETRY_SCHEDULE=1s with SWEEP_INTERVAL_MS=1000 (the smallest
//             the config accepts; a deferral comes back as a delayed job on the worker's retry
//             lane, or through the sweep if Redis lost it), the baseline's
//             BullMQ backoff 1 s, Postfix's minimal/maximal_backoff_time and queue_run_delay 1s.
//   retry     the backlog (default 2,000), with the sink deferring the first attempt of only the
//             first recipients (r<n>, n < --fail-below, default 100, every k-th as in tempfail): their
//             retries fall due 1 s later (the same cut schedules) while most of the backlog of new
//             mail still waits. Retry lateness: from when the retry was due (the sink's 451 + 1 s) to
//             the sink accepting it; Postfix alternates its deferred and incoming queues for this.
// Targets: mailroom, baseline, and postfix when the postfix package is installed and this runs as
// root (startPostfixRelay in bench/lib/postfix.mjs runs a private instance on a high port).
// Other flags: --concurrency 10 (worker jobs, baseline jobs, Postfix deliveries), --domains 20,
//   --targets mailroom,baseline,postfix, --greet-ms 0 (sink's greeting delay), --log-level info
//   (the worker's), --keep (the database), --profile (a V8 CPU profile of the worker, under /tmp),
//   --worker-processes N (mailroom: that many worker processes, replicas on the same queues,
//   splitting --concurrency between them so the total in flight stays the same as the others';
//   default one per core when that divides --concurrency, as WORKER_PROCESSES=auto runs it and as
//   bench/imap.mjs runs IMAP_WORKERS; else 1), --runs N (backlog mode: every target N times,
//   interleaved round by round; the table shows each target's median round by msg/s and lists
//   every round, with Mailroom's ratios to the baseline and Postfix of the same round. A backlog
//   of 1,000-2,000 drains in a few seconds, so one round of each scatters by +-20% here).
//
// Sink: bench/lib/sink.mjs, its own process. Recipients r<n>@d<n % domains>.dest.bench.test; the
// destination domains' MX (a local dns2 server in this process) is the sink. Backlog and tempfail
// results go to latest-outbound.md / latest-outbound-tempfail.md, rate to latest-outbound-rate.md.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import pg from 'pg';
import { createBenchDatabase, dbCpuDelta, dbCpuSnapshot, serviceUrls } from './lib/env.mjs';
import { startDns } from './lib/mail.mjs';
import {
  clearOutbound,
  now,
  openLoop,
  recipient,
  resetDeliveries,
  seedBacklog,
  seedSender,
} from './lib/outbound-data.mjs';
import { startBaseline, startMailroom, startPostfixTarget } from './lib/outbound-targets.mjs';
import { postfixStatus } from './lib/postfix.mjs';
import {
  fmt,
  log,
  machine,
  machineLine,
  markdownTable,
  parseFlags,
  percentile,
  ratio,
  saveResults,
  sleep,
} from './lib/report.mjs';
import { startSink } from './lib/sink.mjs';

const DESCRIPTIONS = {
  mailroom: 'worker process (claim, MX + MTA-STS lookup, DKIM sign, one SMTP session per message, outcome tx)',
  baseline: 'BullMQ + pg read + pooled nodemailer + status UPDATE (no DNS, no DKIM)',
  postfix: 'Postfix relay, on-disk queue (no DKIM)',
};

const flags = parseFlags();
const mode = String(flags.mode ?? 'backlog');
/** One worker process per core (WORKER_PROCESSES=auto) when they can split the jobs in flight evenly. */
function defaultWorkerProcesses(concurrency) {
  const cores = Math.max(1, os.availableParallelism());
  return concurrency % cores === 0 ? cores : 1;
}
const settings = {
  mode,
  messages: Number(flags.messages ?? (flags.quick ? 300 : 2000)),
  rate: Number(flags.rate ?? 300),
  duration: Number(flags.duration ?? (flags.quick ? 10 : 60)),
  failEvery: Math.round(1 / Number(flags['fail-rate'] ?? 0.1)),
  failBelow: Number(flags['fail-below'] ?? 100),
  concurrency: Number(flags.concurrency ?? 10),
  domains: Number(flags.domains ?? 20),
  greetMs: Number(flags['greet-ms'] ?? 0),
  drainTimeout: Number(flags['drain-timeout'] ?? 300),
  logLevel: String(flags['log-level'] ?? 'info'),
  workerProcesses: Number(flags['worker-processes'] ?? defaultWorkerProcesses(Number(flags.concurrency ?? 10))),
  // Other modes run once (run-all passes its flags to every mode).
  runs: mode === 'backlog' ? Number(flags.runs ?? 1) : 1,
};
if (
  !Number.isInteger(settings.workerProcesses) ||
  settings.workerProcesses < 1 ||
  settings.concurrency % settings.workerProcesses
) {
  throw new Error('--worker-processes must be a whole number that divides --concurrency');
}
if (!Number.isInteger(settings.runs) || settings.runs < 1) {
  throw new Error('--runs must be a whole number >= 1');
}

/** Seconds from a deferral to its retry being due, in tempfail and retry modes (all targets' schedules are cut to 1 s). */
const RETRY_AFTER_S = 1;

/** Summary of what the sink saw for recipients 0 … count - 1. */
function sinkSummary(report, count, domains) {
  let unique = 0;
  let duplicates = 0;
  const retryDelays = []; // from the sink's 451 to the retry it accepted, seconds
  for (let n = 0; n < count; n++) {
    const rcpt = recipient(n, domains);
    const times = report.arrivals[rcpt];
    if (times) unique++;
    if (times && times.length > 1) duplicates++;
    if (times && report.deferredAt[rcpt] !== undefined) retryDelays.push((times[0] - report.deferredAt[rcpt]) / 1000);
  }
  return {
    atSink: unique,
    lost: count - unique,
    duplicates,
    sessions: report.sessions,
    transactions: report.transactions,
    tempfails: report.tempfails,
    retryDelayP50S: percentile(retryDelays, 0.5),
    retryDelayP99S: percentile(retryDelays, 0.99),
    retryDelayMaxS: retryDelays.length ? Math.max(...retryDelays) : null,
    // The cut schedules make every retry due 1 s after its deferral: the rest is waiting in line.
    retryLatenessP50S: retryDelays.length ? Math.max(0, percentile(retryDelays, 0.5) - RETRY_AFTER_S) : null,
    retryLatenessP99S: retryDelays.length ? Math.max(0, percentile(retryDelays, 0.99) - RETRY_AFTER_S) : null,
  };
}

async function dbSummary(client) {
  const { rows } = await client.query(`
    SELECT count(*) FILTER (WHERE status = 'delivered')::int AS delivered,
           coalesce(sum(attempts), 0)::int AS attempts,
           percentile_disc(0.5) WITHIN GROUP (ORDER BY ms) AS p50,
           percentile_disc(0.99) WITHIN GROUP (ORDER BY ms) AS p99
    FROM (SELECT status, attempts, extract(epoch FROM delivered_at - last_attempt_at) * 1000 AS ms FROM deliveries) d`);
  // The worker records each SMTP session's duration with its attempt event; the baseline does not.
  const { rows: smtp } = await client.query(`
    SELECT percentile_disc(0.5) WITHIN GROUP (ORDER BY duration_ms) AS p50,
           percentile_disc(0.99) WITHIN GROUP (ORDER BY duration_ms) AS p99
    FROM delivery_events WHERE type = 'attempt'`);
  const num = (v) => (v === null ? null : Number(v));
  return {
    delivered: rows[0].delivered,
    attempts: rows[0].attempts,
    jobP50Ms: num(rows[0].p50),
    jobP99Ms: num(rows[0].p99),
    smtpP50Ms: num(smtp[0].p50),
    smtpP99Ms: num(smtp[0].p99),
  };
}

/** Transactions committed in the bench database so far (PostgreSQL flushes these within ~1 s). */
async function xacts(client) {
  const { rows } = await client.query(
    'SELECT xact_commit::bigint AS n FROM pg_stat_database WHERE datname = current_database()',
  );
  return Number(rows[0].n);
}

/** Polls `progress()` until it reaches `target`; gives up after `stallSeconds` without progress. */
async function waitFor(progress, target, { stallSeconds = 60, deadline = Infinity } = {}) {
  let last = -1;
  let lastChange = now();
  for (;;) {
    const value = await progress();
    if (value >= target) return true;
    if (value !== last) {
      last = value;
      lastChange = now();
    }
    if (now() - lastChange > stallSeconds * 1000 || now() > deadline) return false;
    await sleep(100);
  }
}

async function startTarget(name, ctx, { hold, retry }) {
  if (name === 'mailroom') return startMailroom({ ...ctx, retry, processes: settings.workerProcesses });
  if (name === 'baseline') return startBaseline(ctx);
  return startPostfixTarget({ ...ctx, hold });
}

/** Backlog and tempfail: every delivery queued at once, time until all are delivered. */
async function runBacklog(target, ctx, { deliveries, count }) {
  const { admin, db, sink } = ctx;
  if (target.prepare) {
    log(`${target.name}: submitting ${fmt(count)} messages into its hold queue (untimed)`);
    await target.prepare(count);
  }
  const progress = target.usesDb
    ? async () => (await admin.query(`SELECT count(*)::int AS n FROM deliveries WHERE status = 'delivered'`)).rows[0].n
    : async () => ((await sink.accepted()) >= count && target.queued() === 0 ? count : await sink.accepted());
  const dbBefore = await dbCpuSnapshot(admin, db.name);
  const xactsBefore = await xacts(admin);
  const cpuBefore = target.cpu();
  const benchBefore = process.cpuUsage();
  const started = now();
  await target.queue(deliveries);
  const drained = await waitFor(progress, count);
  const seconds = (now() - started) / 1000;
  const cpu = target.cpu() - cpuBefore;
  const bench = process.cpuUsage(benchBefore);
  const dbCpu = dbCpuDelta(dbBefore, await dbCpuSnapshot(admin, db.name));
  // Deliveries in flight when the sink count was read may still reach it: let them settle.
  await sleep(1000);
  const xactCount = (await xacts(admin)) - xactsBefore;
  const seen = sinkSummary(await sink.report(), count, ctx.domains);
  const rows = target.usesDb ? await dbSummary(admin) : { delivered: null, attempts: null };
  const stats = target.stats ? await target.stats() : null;
  return {
    target: target.name,
    description: DESCRIPTIONS[target.name],
    messages: count,
    drained,
    seconds,
    perSecond: seen.atSink / seconds,
    cpuMsPerMsg: (cpu * 1000) / count,
    // Share of one core: a Node process runs its JavaScript on one, so ~100% means CPU-bound.
    cpuPercent: (cpu / seconds) * 100,
    dbCpuMsPerMsg: target.usesDb ? (dbCpu * 1000) / count : null,
    dbXactsPerMsg: target.usesDb ? xactCount / count : null,
    benchCpuMsPerMsg: (bench.user + bench.system) / 1000 / count,
    peakRssMb: target.peakRssMb(),
    ...rows,
    // The sink's deferrals each cost one more attempt; Postfix has no row to count them in.
    attempts: rows.attempts ?? seen.tempfails.rcpt + seen.tempfails.data + seen.atSink,
    ...seen,
    baselineStats: stats,
  };
}

/** Rate: a fixed open rate for `duration` seconds, then the backlog left drains. */
async function runRate(target, ctx) {
  const { admin, db, sink } = ctx;
  const { rate, duration, drainTimeout } = settings;
  const startedAt = [];
  const acceptedAt = [];
  const dbBefore = await dbCpuSnapshot(admin, db.name);
  const cpuBefore = target.cpu();
  const benchBefore = process.cpuUsage();
  const started = now();
  const produced = await openLoop({
    rate,
    seconds: duration,
    submit: async (n) => {
      startedAt[n] = now();
      acceptedAt[n] = await target.submit(n);
    },
  });
  const submitSeconds = (now() - started) / 1000;
  const atSinkAtEnd = await sink.accepted();
  const submitted = produced.submitted - produced.errors;
  log(`${target.name}: submitted ${fmt(submitted)} in ${fmt(submitSeconds, 1)} s, ${fmt(atSinkAtEnd)} at the sink`);
  const drainedAll = await waitFor(() => sink.accepted(), submitted, {
    stallSeconds: 60,
    deadline: now() + drainTimeout * 1000,
  });
  const drainSeconds = (now() - started) / 1000 - submitSeconds;
  const cpu = target.cpu() - cpuBefore;
  const bench = process.cpuUsage(benchBefore);
  const dbCpu = dbCpuDelta(dbBefore, await dbCpuSnapshot(admin, db.name));
  await sleep(1000);
  const report = await sink.report();
  const seen = sinkSummary(report, produced.submitted, ctx.domains);
  const latencies = [];
  const submitMs = [];
  for (let n = 0; n < produced.submitted; n++) {
    if (acceptedAt[n] !== undefined) submitMs.push(acceptedAt[n] - startedAt[n]);
    const times = report.arrivals[recipient(n, ctx.domains)];
    if (times && startedAt[n] !== undefined) latencies.push(times[0] - startedAt[n]);
  }
  return {
    target: target.name,
    description: DESCRIPTIONS[target.name],
    offeredRate: rate,
    duration,
    submitted,
    submitErrors: produced.errors,
    submitRate: submitted / submitSeconds,
    atSinkRateDuring: atSinkAtEnd / submitSeconds,
    backlogAtEnd: submitted - atSinkAtEnd,
    drained: drainedAll,
    drainSeconds,
    p50Ms: percentile(latencies, 0.5),
    p99Ms: percentile(latencies, 0.99),
    maxMs: latencies.length ? Math.max(...latencies) : null,
    submitP99Ms: percentile(submitMs, 0.99),
    cpuMsPerMsg: (cpu * 1000) / Math.max(1, seen.atSink),
    cpuPercent: (cpu / (submitSeconds + drainSeconds)) * 100,
    dbCpuMsPerMsg: target.usesDb ? (dbCpu * 1000) / Math.max(1, seen.atSink) : null,
    benchCpuMsPerMsg: (bench.user + bench.system) / 1000 / Math.max(1, submitted),
    peakRssMb: target.peakRssMb(),
    ...seen,
    lost: submitted - seen.atSink,
    ...(target.usesDb ? { deliveredRows: (await dbSummary(admin)).delivered } : {}),
  };
}

function header(extra) {
  return [
    `Machine: ${machineLine(machine())}. ~5 KB messages, ${settings.domains} destination domains whose MX (a local`,
    `dns2 server in the bench process) is bench/lib/sink.mjs, its own process: offers PIPELINING,`,
    `discards, stamps each recipient's arrival, greeting after ${settings.greetMs} ms. Concurrency ${settings.concurrency} everywhere (worker`,
    `WORKER_CONCURRENCY, baseline jobs, Postfix default_destination_concurrency_limit). mailroom is`,
    `the built worker process (LOG_LEVEL=${settings.logLevel}, otherwise default settings), not the in-process agent` +
      (settings.workerProcesses > 1
        ? `; here ${settings.workerProcesses} worker processes (replicas on one queue) with WORKER_CONCURRENCY ${settings.concurrency / settings.workerProcesses} each, ${settings.concurrency} in flight in all.`
        : '.'),
    "CPU: that target's process(es) from /proc (Postfix: its whole process tree, reaped daemons included;",
    'its peak RSS is the peak of the summed PSS); DB CPU: the PostgreSQL backends of the bench database',
    "(rate mode: the producer's inserts too).",
    ...extra,
  ].join('\n');
}

/** The median of `list` by `key` (the lower middle one of an even count). */
function median(list, key = (x) => x) {
  return [...list].sort((a, b) => key(a) - key(b))[Math.floor((list.length - 1) / 2)];
}

/** Each target's round with the median msg/s. */
function medianRounds(rows) {
  const byTarget = new Map();
  for (const r of rows) byTarget.set(r.target, [...(byTarget.get(r.target) ?? []), r]);
  return [...byTarget.values()].map((list) => median(list, (r) => r.perSecond));
}

/**
 * With --runs: every round's msg/s (and any loss or duplicate, a round the median hides
 * included), and Mailroom's ratios to the targets of the same round.
 */
function roundsMarkdown(rows) {
  if (settings.runs === 1) return '';
  const rounds = Array.from({ length: settings.runs }, (_, i) => i + 1);
  const of = (target, round) => rows.find((r) => r.target === target && r.round === round);
  const targets = [...new Set(rows.map((r) => r.target))];
  const cell = (r) =>
    r === undefined
      ? '–'
      : `${fmt(r.perSecond, 1)}${r.lost || r.duplicates ? ` ✗ (${fmt(r.lost)} lost, ${fmt(r.duplicates)} duplicates)` : ''}`;
  const lines = targets.map((t) => `- ${t}: ${rounds.map((n) => cell(of(t, n))).join(', ')} msg/s`);
  for (const other of targets.filter((t) => t !== 'mailroom')) {
    const ratios = rounds
      .map((n) => (of('mailroom', n) && of(other, n) ? of('mailroom', n).perSecond / of(other, n).perSecond : null))
      .filter((x) => x !== null);
    if (ratios.length === 0) continue;
    lines.push(
      `- mailroom ÷ ${other}, round by round: ${ratios.map((x) => `${x.toFixed(2)}×`).join(', ')} (median ${median(ratios).toFixed(2)}×)`,
    );
  }
  return [
    '',
    '',
    `${settings.runs} rounds, the targets interleaved in each; the table shows each target's median round ` +
      '(its "vs baseline" is the ratio of the two medians; below, the ratios within each round and their median).',
    '',
    ...lines,
  ].join('\n');
}

function backlogMarkdown(rows, count) {
  const base = rows.find((r) => r.target === 'baseline');
  const table = markdownTable(
    [
      'target',
      'drain s',
      'msg/s',
      'vs baseline',
      'job p50 ms',
      'job p99 ms',
      'CPU ms/msg',
      'CPU % of a core',
      'DB CPU ms/msg',
      'DB xacts/msg',
      'peak RSS MB',
      'SMTP sessions',
      'delivered',
      'lost',
      'duplicates',
    ],
    rows.map((r) => [
      `${r.target}: ${r.description}`,
      fmt(r.seconds, 1),
      fmt(r.perSecond, 1),
      ratio(r.perSecond, base?.perSecond),
      fmt(r.jobP50Ms, 1),
      fmt(r.jobP99Ms, 1),
      fmt(r.cpuMsPerMsg, 2),
      fmt(r.cpuPercent, 0),
      fmt(r.dbCpuMsPerMsg, 2),
      fmt(r.dbXactsPerMsg, 1),
      fmt(r.peakRssMb, 0),
      fmt(r.sessions),
      `${fmt(r.delivered ?? r.atSink)} / ${fmt(count)}${(r.delivered ?? r.atSink) === count ? ' ✓' : ' ✗'}`,
      fmt(r.lost),
      fmt(r.duplicates),
    ]),
  );
  return [
    `### Outbound: drain a backlog of ${fmt(count)} deliveries, concurrency ${settings.concurrency}`,
    '',
    header([
      'Drain: from queueing every job (Postfix: releasing its hold queue, filled untimed) to the last',
      'status row delivered (Postfix: the last message at the sink, its queue empty). Job: from the',
      'claim (baseline: the job starting) to the outcome, delivered_at - last_attempt_at of each row.',
      'delivered: status rows (Postfix: messages at the sink); lost/duplicates as counted by the sink.',
      'CPU % of a core: target CPU / drain time (one Node process runs its JavaScript on one core).',
      'DB xacts/msg: transactions committed in the bench database per message (pg_stat_database).',
    ]),
    '',
    table,
  ].join('\n');
}

function tempfailMarkdown(rows, count) {
  const table = markdownTable(
    [
      'target',
      'drain s',
      'msg/s',
      'deferred by sink (RCPT / DATA)',
      'attempts',
      'retries',
      'retry delay p50 / p99 / max s',
      'delivered',
      'lost',
      'duplicates',
      'CPU ms/msg',
      'DB CPU ms/msg',
    ],
    rows.map((r) => [
      `${r.target}: ${r.description}`,
      fmt(r.seconds, 1),
      fmt(r.perSecond, 1),
      `${fmt(r.tempfails.rcpt)} / ${fmt(r.tempfails.data)}`,
      fmt(r.attempts),
      fmt(r.attempts - count),
      `${fmt(r.retryDelayP50S, 1)} / ${fmt(r.retryDelayP99S, 1)} / ${fmt(r.retryDelayMaxS, 1)}`,
      `${fmt(r.delivered ?? r.atSink)} / ${fmt(count)}${(r.delivered ?? r.atSink) === count ? ' ✓' : ' ✗'}`,
      `${fmt(r.lost)}${r.lost === 0 ? ' ✓' : ' ✗'}`,
      `${fmt(r.duplicates)}${r.duplicates === 0 ? ' ✓' : ' ✗'}`,
      fmt(r.cpuMsPerMsg, 2),
      fmt(r.dbCpuMsPerMsg, 2),
    ]),
  );
  return [
    `### Outbound: ${fmt(count)} deliveries, the sink defers the first attempt of 1 in ${settings.failEvery}`,
    '',
    header([
      `The sink answers 451 4.3.0 to the first attempt of recipients r<n> with n % ${settings.failEvery} = 0 (at RCPT or,`,
      'alternately, after DATA). Retry schedules cut to 1 s: worker DELIVERY_RETRY_SCHEDULE=1s and',
      'SWEEP_INTERVAL_MS=1000 (a deferral returns as a delayed job, or through the sweep), baseline BullMQ attempts 8 with',
      "fixed backoff 1 s, Postfix minimal/maximal_backoff_time = queue_run_delay = 1s. Attempts: the rows'",
      "attempt counters (Postfix: the sink's deferrals + deliveries); retries = attempts - messages.",
      "Retry delay: from the sink's 451 to its accepting the retry, per deferred message.",
    ]),
    '',
    table,
  ].join('\n');
}

function retryMarkdown(rows, count) {
  const table = markdownTable(
    [
      'target',
      'drain s',
      'msg/s',
      'deferred by sink',
      'retry lateness p50 / p99 s',
      'retry delay p50 / max s',
      'delivered',
      'lost',
      'duplicates',
      'CPU ms/msg',
    ],
    rows.map((r) => [
      `${r.target}: ${r.description}`,
      fmt(r.seconds, 1),
      fmt(r.perSecond, 1),
      fmt(r.tempfails.rcpt + r.tempfails.data),
      `${fmt(r.retryLatenessP50S, 2)} / ${fmt(r.retryLatenessP99S, 2)}`,
      `${fmt(r.retryDelayP50S, 2)} / ${fmt(r.retryDelayMaxS, 2)}`,
      `${fmt(r.delivered ?? r.atSink)} / ${fmt(count)}${(r.delivered ?? r.atSink) === count ? ' ✓' : ' ✗'}`,
      `${fmt(r.lost)}${r.lost === 0 ? ' ✓' : ' ✗'}`,
      `${fmt(r.duplicates)}${r.duplicates === 0 ? ' ✓' : ' ✗'}`,
      fmt(r.cpuMsPerMsg, 2),
    ]),
  );
  return [
    `### Outbound: due retries under a backlog of ${fmt(count)} new messages`,
    '',
    header([
      `The sink answers 451 4.3.0 to the first attempt of recipients r<n> with n < ${settings.failBelow} and`,
      `n % ${settings.failEvery} = 0 (at RCPT or after DATA): the first of the backlog, so their retries fall due while`,
      'most of it still waits. Retry schedules cut to 1 s as in tempfail mode (worker DELIVERY_RETRY_SCHEDULE=1s,',
      'SWEEP_INTERVAL_MS=1000; baseline BullMQ fixed backoff 1 s; Postfix minimal/maximal_backoff_time =',
      `queue_run_delay = 1s). Retry delay: from the sink's 451 to its accepting the retry; lateness: that delay`,
      `less the ${RETRY_AFTER_S} s the schedule asks for (time spent behind new mail).`,
    ]),
    '',
    table,
  ].join('\n');
}

function rateMarkdown(rows) {
  const table = markdownTable(
    [
      'target',
      'offered /s',
      'submitted /s',
      'at sink /s (during)',
      'p50 ms',
      'p99 ms',
      'max ms',
      'submit p99 ms',
      'backlog at end',
      'drained after s',
      'CPU ms/msg',
      'CPU % of a core',
      'DB CPU ms/msg',
      'not at sink',
      'duplicates',
    ],
    rows.map((r) => [
      `${r.target}: ${r.description}`,
      fmt(r.offeredRate),
      fmt(r.submitRate, 1),
      fmt(r.atSinkRateDuring, 1),
      fmt(r.p50Ms, 0),
      fmt(r.p99Ms, 0),
      fmt(r.maxMs, 0),
      fmt(r.submitP99Ms, 1),
      fmt(r.backlogAtEnd),
      r.drained ? fmt(r.drainSeconds, 1) : `not in ${fmt(r.drainSeconds, 0)}`,
      fmt(r.cpuMsPerMsg, 2),
      fmt(r.cpuPercent, 0),
      fmt(r.dbCpuMsPerMsg, 2),
      `${fmt(r.lost)}${r.lost === 0 ? ' ✓' : ' ✗'}`,
      fmt(r.duplicates),
    ]),
  );
  return [
    `### Outbound: ${fmt(settings.rate)} messages/s offered for ${fmt(settings.duration)} s, concurrency ${settings.concurrency}`,
    '',
    header([
      'Open loop: message i is submitted at start + i / rate whatever happened before (at most 50 in',
      'flight). Latency: from the start of its submission (worker, baseline: the one-transaction insert',
      'of blob, outbound message, queued delivery and event, then the job add; Postfix: SMTP submission)',
      'to the sink accepting it. Backlog at end: submitted but not at the sink when submission stopped;',
      `then up to ${settings.drainTimeout} s to drain (not at sink: still undelivered then). CPU: per message at the sink.`,
    ]),
    '',
    table,
  ].join('\n');
}

async function main() {
  if (!['backlog', 'rate', 'tempfail', 'retry'].includes(mode)) {
    throw new Error(`--mode backlog|rate|tempfail|retry, not ${mode}`);
  }
  const { redisUrl } = serviceUrls();
  const postfix = postfixStatus();
  const wanted = flags.targets ? String(flags.targets).split(',') : ['baseline', 'postfix', 'mailroom'];
  const targets = wanted.filter((t) => t !== 'postfix' || postfix.ok);
  if (wanted.includes('postfix') && !postfix.ok) log(`postfix: ${postfix.why}, no Postfix row`);
  const count = settings.messages;
  const masterKey = randomBytes(32);
  const db = await createBenchDatabase('outbound', { keep: !!flags.keep });
  const zone = [
    `mx.sink.bench.test. IN A 127.0.0.1`,
    ...Array.from({ length: settings.domains }, (_, i) => `d${i}.dest.bench.test. IN MX 10 mx.sink.bench.test.`),
  ].join('\n');
  const dns = await startDns(zone);
  const sink = await startSink({ greetMs: settings.greetMs });
  const admin = new pg.Client({ connectionString: db.url });
  const pool = new pg.Pool({ connectionString: db.url, max: 10, application_name: 'bench-producer' });
  const rows = [];
  try {
    await admin.connect();
    const tenantId = await seedSender(db.url, masterKey);
    const ctx = {
      db,
      admin,
      pool,
      sink,
      tenantId,
      redisUrl,
      masterKey,
      dnsPort: dns.port,
      sinkPort: sink.port,
      concurrency: settings.concurrency,
      domains: settings.domains,
      logLevel: settings.logLevel,
      profileDir: flags.profile ? fs.mkdtempSync('/tmp/mailroom-bench-profile-') : null,
    };
    if (ctx.profileDir) log(`worker CPU profiles go to ${ctx.profileDir}`);
    let deliveries = [];
    if (mode !== 'rate') {
      log(`seeding ${fmt(count)} outbound messages`);
      deliveries = await seedBacklog(admin, tenantId, { count, domains: settings.domains });
    }
    for (let round = 1; round <= settings.runs; round++)
      for (const name of targets) {
        if (mode === 'rate') await clearOutbound(admin);
        else await resetDeliveries(admin);
        if (mode === 'retry') await sink.reset(settings.failEvery, settings.failBelow);
        else await sink.reset(mode === 'tempfail' ? settings.failEvery : 0);
        const retry = mode === 'tempfail' || mode === 'retry';
        const target = await startTarget(name, ctx, { hold: mode !== 'rate', retry });
        log(
          `${name}: ${mode}${mode === 'rate' ? ` ${settings.rate}/s for ${settings.duration} s` : ` of ${fmt(count)}`}` +
            (settings.runs > 1 ? `, round ${round} of ${settings.runs}` : ''),
        );
        try {
          const row =
            mode === 'rate' ? await runRate(target, ctx) : await runBacklog(target, ctx, { deliveries, count });
          log(`${name}: done (log: ${target.logFile})`);
          rows.push({ ...row, round });
        } finally {
          await target.stop();
        }
      }
  } finally {
    await pool.end();
    await admin.end().catch(() => undefined);
    await sink.stop();
    await dns.close();
    await db.drop();
  }

  // The table lists Mailroom first, then its comparisons: each target's median round.
  const rank = (row) => ['mailroom', 'baseline', 'postfix'].indexOf(row.target);
  const order = (a, b) => rank(a) - rank(b);
  rows.sort(order);
  const shown = settings.runs > 1 ? medianRounds(rows).sort(order) : rows;
  const markdown =
    mode === 'rate'
      ? rateMarkdown(shown)
      : mode === 'tempfail'
        ? tempfailMarkdown(shown, count)
        : mode === 'retry'
          ? retryMarkdown(shown, count)
          : backlogMarkdown(shown, count) + roundsMarkdown(rows);
  console.log(`\n${markdown}\n`);
  const name = mode === 'backlog' ? 'outbound' : `outbound-${mode}`;
  const files = saveResults(name, { settings, rows }, markdown);
  log(`saved ${files.json} and ${files.md}`);
  const complete = (r) =>
    r.lost === 0 && r.duplicates === 0 && (r.delivered === undefined || r.delivered === null || r.delivered === count);
  if (mode !== 'rate' && !rows.every(complete)) process.exitCode = 1;
  if (mode === 'rate' && rows.some((r) => r.duplicates > 0)) process.exitCode = 1;
}

main().then(
  // Pooled clients of the compiled libraries may hold the event loop open; the work is done.
  () => process.exit(process.exitCode ?? 0),
  (err) => {
    console.error(err);
    process.exit(1);
  },
);
