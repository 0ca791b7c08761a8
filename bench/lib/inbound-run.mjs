// One measured inbound run against one target (the real MTA or a baseline), each in its own
// child process (or, for Postfix, its own process tree) so its CPU time and peak memory are its
// own. Shared by inbound.mjs and scale.mjs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dbCpuDelta, dbCpuSnapshot, freePort, serviceUrls, startNode, startScriptFlags } from './env.mjs';
import { harakaStatus, installHaraka, startHaraka } from './haraka.mjs';
import { postfixStatus, runSmtpSource, startPostfixRelay, startSmtpSink } from './postfix.mjs';
import { buildJobs } from './mail.mjs';
import { log, percentile, root, sleep } from './report.mjs';
import { runLoad } from './smtp-load.mjs';

export const TARGETS = {
  mailroom: 'Mailroom MTA (SPF, DKIM, DMARC, spam score, one commit)',
  'bare-pg': 'bare smtp-server + pg INSERT of the raw message',
  'bare-discard': 'bare smtp-server, discard',
  postfix: 'Postfix relaying to a local smtp-sink, queue on disk',
  'postfix-smtp-source': 'the same Postfix relay, loaded by Postfix smtp-source',
  haraka: 'Haraka (one process) accepting any recipient and discarding',
};

/** The baselines that need something this machine may not have. */
const OPTIONAL = { postfix: postfixStatus, 'postfix-smtp-source': postfixStatus, haraka: harakaStatus };

/**
 * Whether `target` can be measured here: { ok: true } or { ok: false, why } where `why` says
 * what is missing and how to install it. With `install`, installs Haraka into its cache folder
 * first (Postfix is a system package: it is only named).
 */
export function targetStatus(target, { install = false } = {}) {
  if (!TARGETS[target]) throw new Error(`unknown target ${target} (${Object.keys(TARGETS).join(', ')})`);
  const status = OPTIONAL[target]?.() ?? { ok: true };
  if (!status.ok && install && target === 'haraka') return installHaraka();
  return status;
}

/** The table row of a baseline that could not run here. */
export function unavailableRow(target, shape, why) {
  return {
    target,
    description: `${TARGETS[target]}: ${why}`,
    sessions: shape.sessions,
    perConnection: shape.perConnection,
    skipped: true,
  };
}

/**
 * Starts a target. Returns { port, proc: { cpu(), peakRssMb(), stop() }, stored, usesDb,
 * load, drain?, cleanup }: `stored` is null or { count(client), expected(result) } (rows in a table,
 * or messages a sink received), `load` which generator drives it ('node' or 'smtp-source'),
 * `drain()` waits for work still in flight after the last 250 (Postfix's queue).
 */
async function startTarget(target, { db, dnsPort, logLevel, mtaEnv = {} }) {
  const port = await freePort();
  if (target === 'mailroom') {
    const { redisUrl } = serviceUrls();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-mta-'));
    // The MTA runs as package.json's start:mta starts it (its memory settings, README "Running
    // the apps"), plus extra node flags for profiles of this load:
    // MTA_NODE_ARGS="--cpu-prof --cpu-prof-dir=/tmp/prof" node bench/inbound.mjs --targets mailroom
    const shipped = startScriptFlags('start:mta');
    const proc = await startNode(path.join(root, 'dist/apps/mta/src/main.js'), {
      label: 'mta',
      port,
      nodeArgs: [...shipped.nodeArgs, ...(process.env.MTA_NODE_ARGS ? process.env.MTA_NODE_ARGS.split(' ') : [])],
      env: {
        ...shipped.env,
        NODE_ENV: 'development',
        LOG_LEVEL: logLevel,
        DATABASE_URL: db.url,
        REDIS_URL: redisUrl,
        QUEUE_PREFIX: `mrbench${randomBytes(3).toString('hex')}`,
        MX_HOSTNAME: 'mx.mailroom.bench.test',
        MASTER_KEY: randomBytes(32).toString('hex'),
        DATA_DIR: dataDir,
        SMTP_HOST: '127.0.0.1',
        SMTP_PORT: String(port),
        SUBMISSION_PORT: '0',
        SUBMISSIONS_PORT: '0',
        MTA_HEALTH_PORT: String(await freePort()),
        DNS_SERVERS: `127.0.0.1:${dnsPort}`,
        DNS_TIMEOUT_MS: '2000',
        // 20 sessions carrying 10,000 messages send ~3,500 commands each; the default (1,000)
        // closes them with 421, which the load generator does not retry.
        SMTP_MAX_COMMANDS: '100000',
        // --blob-store s3: BLOB_STORE and the S3_* settings of the bench's s3rver.
        ...mtaEnv,
      },
    });
    return {
      port,
      proc,
      // One row per accepted mailbox.
      stored: tableRows('messages', (result) => result.ackedRecipients),
      usesDb: true,
      load: 'node',
      cleanup: () => fs.rmSync(dataDir, { recursive: true, force: true }),
    };
  }
  if (target === 'postfix' || target === 'postfix-smtp-source') {
    const sink = await startSmtpSink();
    let relay;
    try {
      // 250 smtpd: one for each of shape B's 200 sessions (as smtp-server's maxClients allows);
      // at Postfix's default 100 the rest overflow the listen queue and wait for SYN retries.
      relay = await startPostfixRelay({ sink: { host: '127.0.0.1', port: sink.port }, port, smtpdProcesses: 250 });
    } catch (err) {
      await sink.stop();
      throw err;
    }
    return {
      port,
      proc: { ...relay.proc, stop: () => relay.stop() },
      // Every acknowledged message must reach the sink, once (≤ 5 recipients: one transaction).
      stored: { count: async () => sink.messages(), expected: (result) => result.acked },
      usesDb: false,
      load: target === 'postfix' ? 'node' : 'smtp-source',
      drain: async () => {
        await relay.drain();
        await sleep(200); // the sink's counter line for the last message
      },
      cleanup: () => sink.stop(),
    };
  }
  if (target === 'haraka') {
    const haraka = await startHaraka({ port, dnsPort, logLevel });
    return {
      port,
      proc: { ...haraka.proc, stop: () => haraka.stop() },
      stored: null,
      usesDb: false,
      load: 'node',
      cleanup: () => undefined,
    };
  }
  const mode = target === 'bare-pg' ? 'pg' : 'discard';
  const proc = await startNode(path.join(root, 'bench/lib/bare-smtp.mjs'), {
    label: target,
    port,
    args: [mode, String(port)],
    env: { DATABASE_URL: db.url },
  });
  return {
    port,
    proc,
    // One row per acknowledged message.
    stored: mode === 'pg' ? tableRows('bench_raw_messages', (result) => result.acked) : null,
    usesDb: mode === 'pg',
    load: 'node',
    cleanup: () => undefined,
  };
}

/** Counts rows of `table` in the bench database, through the measuring client. */
function tableRows(table, expected) {
  return {
    async count(client) {
      const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
      return rows[0].n;
    },
    expected,
  };
}

/**
 * Messages sent through a target before its measured run (not counted), followed by ANALYZE: the
 * store is in use, with the statistics autovacuum keeps on a live server. With an empty or
 * few-page message_blobs table analyzed (the seed ANALYZEs the empty tables), each backend plans
 * the messages -> message_blobs foreign-key check as a sequential scan and keeps that cached plan
 * while the table grows, until an ANALYZE or VACUUM of it replans: a bench run is shorter than
 * autovacuum's one-minute naptime. 40 messages and ANALYZE still left a two-page table planned
 * that way; after 400 the checks are index probes.
 */
export const WARMUP_MESSAGES = 400;

/** The warm-up's jobs: WARMUP_MESSAGES of the measured run's mix, with a seed of their own. */
export function warmupJobs({ pool, sizes, recipientCounts, addresses }) {
  return buildJobs({ count: WARMUP_MESSAGES, pool, sizes, recipientCounts, addresses, seed: 7 });
}

/**
 * Runs `jobs` against `target` in `shape` ({ sessions, perConnection }) after a warm-up
 * (always with the Node generator, 20 long sessions) and an ANALYZE, and returns the figures of one table
 * row. `expectedRows` per acknowledged message is its recipient count for Mailroom (one row per
 * mailbox), and 1 for the pg baseline and for Postfix (messages its sink received). For
 * Postfix, CPU is read once its queue has drained, so it includes relaying to the sink.
 */
export async function measureTarget({ target, shape, jobs, warmup, db, dnsPort, logLevel = 'warn', mtaEnv = {} }) {
  const t = await startTarget(target, { db, dnsPort, logLevel, mtaEnv });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    if (warmup.length > 0) {
      const w = await runLoad({
        port: t.port,
        jobs: warmup,
        sessions: Math.min(shape.sessions, 20),
        perConnection: 'many',
      });
      // A target that accepts nothing is broken, not slow: no row of zeros.
      if (w.acked === 0) throw new Error(`${target}: the warm-up failed: ${JSON.stringify(w.errors)}`);
    }
    if (t.drain) await t.drain();
    // Statistics for what the warm-up stored, as autovacuum keeps them (see WARMUP_MESSAGES).
    await client.query('ANALYZE');
    await sleep(200);
    const storedBefore = t.stored ? await t.stored.count(client) : null;
    const cpuBefore = t.proc.cpu();
    const dbBefore = await dbCpuSnapshot(client, db.name);
    const load = t.load === 'smtp-source' ? runSmtpSource : runLoad;
    const result = await load({ port: t.port, jobs, ...shape });
    const cpuAtLastReply = t.proc.cpu();
    const dbAfter = await dbCpuSnapshot(client, db.name);
    if (t.drain) await t.drain();
    const cpuAfter = t.proc.cpu();
    const storedAfter = t.stored ? await t.stored.count(client) : null;
    const stored = t.stored ? storedAfter - storedBefore : null;
    const expected = t.stored ? t.stored.expected(result) : null;
    const row = {
      target,
      description: TARGETS[target],
      loadGenerator: t.load,
      sessions: shape.sessions,
      perConnection: shape.perConnection,
      messages: jobs.length,
      acked: result.acked,
      ackedRecipients: result.ackedRecipients,
      failed: result.failed,
      errors: result.errors,
      storedRows: stored,
      expectedRows: expected,
      rowsMatch: t.stored ? stored === expected : null,
      wallSeconds: result.wallSeconds,
      msgPerSec: result.acked / result.wallSeconds,
      p50Ms: percentile(result.latencies, 0.5),
      p99Ms: percentile(result.latencies, 0.99),
      cpuSecondsPerMsg: result.acked ? (cpuAfter - cpuBefore) / result.acked : null,
      cpuSecondsPerMsgAtLastReply: result.acked ? (cpuAtLastReply - cpuBefore) / result.acked : null,
      dbCpuSecondsPerMsg: result.acked && t.usesDb ? dbCpuDelta(dbBefore, dbAfter) / result.acked : null,
      peakRssMb: t.proc.peakRssMb(),
    };
    if (result.failed > 0) log(`${target}: ${result.failed} failed: ${JSON.stringify(result.errors)}`);
    if (row.rowsMatch === false) log(`${target}: stored ${stored}, expected ${expected}`);
    return row;
  } finally {
    await client.end();
    await t.proc.stop();
    await t.cleanup();
  }
}
