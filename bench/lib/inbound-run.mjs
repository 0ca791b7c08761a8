// One measured inbound run against one target (the real MTA or a bare baseline), each in its
// own child process so its CPU time and peak memory are its own. Shared by inbound.mjs and
// scale.mjs.
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { dbCpuDelta, dbCpuSnapshot, freePort, serviceUrls, startNode } from './env.mjs';
import { log, percentile, root, sleep } from './report.mjs';
import { runLoad } from './smtp-load.mjs';

export const TARGETS = {
  mailroom: 'Mailroom MTA (SPF, DKIM, DMARC, spam score, one commit)',
  'bare-pg': 'bare smtp-server + pg INSERT of the raw message',
  'bare-discard': 'bare smtp-server, discard',
};

/** Starts a target; returns { port, proc, rowsStored() }. */
async function startTarget(target, { db, dnsPort, logLevel }) {
  const port = await freePort();
  if (target === 'mailroom') {
    const { redisUrl } = serviceUrls();
    const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-mta-'));
    const proc = await startNode(path.join(root, 'dist/apps/mta/src/main.js'), {
      label: 'mta',
      port,
      env: {
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
      },
    });
    return { port, proc, table: 'messages', cleanup: () => fs.rmSync(dataDir, { recursive: true, force: true }) };
  }
  const mode = target === 'bare-pg' ? 'pg' : 'discard';
  const proc = await startNode(path.join(root, 'bench/lib/bare-smtp.mjs'), {
    label: target,
    port,
    args: [mode, String(port)],
    env: { DATABASE_URL: db.url },
  });
  return { port, proc, table: mode === 'pg' ? 'bench_raw_messages' : null, cleanup: () => undefined };
}

async function countRows(client, table) {
  if (!table) return null;
  const { rows } = await client.query(`SELECT count(*)::int AS n FROM ${table}`);
  return rows[0].n;
}

/**
 * Runs `jobs` against `target` in `shape` ({ sessions, perConnection }) after a short warm-up,
 * and returns the figures of one table row. `expectedRows` per acknowledged message is its
 * recipient count for Mailroom (one row per mailbox) and 1 for the pg baseline.
 */
export async function measureTarget({ target, shape, jobs, warmup, db, dnsPort, logLevel = 'warn' }) {
  const t = await startTarget(target, { db, dnsPort, logLevel });
  const client = new pg.Client({ connectionString: db.url });
  await client.connect();
  try {
    if (warmup.length > 0) {
      await runLoad({ port: t.port, jobs: warmup, sessions: Math.min(shape.sessions, 20), perConnection: 'many' });
    }
    await sleep(200);
    const rowsBefore = await countRows(client, t.table);
    const cpuBefore = t.proc.cpu();
    const dbBefore = await dbCpuSnapshot(client, db.name);
    const result = await runLoad({ port: t.port, jobs, ...shape });
    const cpuAfter = t.proc.cpu();
    const dbAfter = await dbCpuSnapshot(client, db.name);
    const rowsAfter = await countRows(client, t.table);
    const stored = rowsAfter === null ? null : rowsAfter - rowsBefore;
    const expected = t.table === 'messages' ? result.ackedRecipients : result.acked;
    const row = {
      target,
      description: TARGETS[target],
      sessions: shape.sessions,
      perConnection: shape.perConnection,
      messages: jobs.length,
      acked: result.acked,
      ackedRecipients: result.ackedRecipients,
      failed: result.failed,
      errors: result.errors,
      storedRows: stored,
      expectedRows: t.table ? expected : null,
      rowsMatch: t.table ? stored === expected : null,
      wallSeconds: result.wallSeconds,
      msgPerSec: result.acked / result.wallSeconds,
      p50Ms: percentile(result.latencies, 0.5),
      p99Ms: percentile(result.latencies, 0.99),
      cpuSecondsPerMsg: result.acked ? (cpuAfter - cpuBefore) / result.acked : null,
      dbCpuSecondsPerMsg: result.acked ? dbCpuDelta(dbBefore, dbAfter) / result.acked : null,
      peakRssMb: t.proc.peakRssMb(),
    };
    if (result.failed > 0) log(`${target}: ${result.failed} failed: ${JSON.stringify(result.errors)}`);
    if (row.rowsMatch === false) log(`${target}: stored ${stored} rows, expected ${expected}`);
    return row;
  } finally {
    await client.end();
    await t.proc.stop();
    t.cleanup();
  }
}

/** The baselines the issue names that this machine may not have: a row saying so. */
export function notInstalledRows(shape) {
  const rows = [];
  for (const [name, why] of [
    ['postfix', 'Postfix as a relay'],
    ['haraka', 'Haraka accepting and discarding'],
  ]) {
    const installed =
      name === 'postfix'
        ? ['/usr/sbin/postfix', '/usr/bin/postfix'].some((p) => fs.existsSync(p))
        : fs.existsSync(path.join(root, 'node_modules/Haraka')) ||
          fs.existsSync(path.join(root, 'node_modules/haraka'));
    rows.push({
      target: name,
      description: `${why}: ${installed ? 'installed but not wired' : 'not installed'}`,
      sessions: shape.sessions,
      skipped: true,
    });
  }
  return rows;
}
