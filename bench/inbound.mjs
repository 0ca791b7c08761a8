// Inbound MX throughput and latency, beside raw baselines measured in the same run.
//
//   npm run build && node bench/inbound.mjs                 (2,000 messages per row, ~5-8 min)
//   node bench/inbound.mjs --messages 10000                 (the issue's full run)
//   node bench/inbound.mjs --quick                          (500 messages per row)
//   node bench/inbound.mjs --install-baselines              (first installs Haraka into .mailroom/bench-tools)
//   flags: --shapes A,B (or L)  --tenants 50  --mailboxes 1000  --log-level warn  --keep (keep the database)
//          --bodies base64|text  (base64: random bytes, as attachments are, the default; text: prose)
//          --blob-store s3 [--blob-s3-min-bytes 0]  (Mailroom's bodies in S3: s3rver in this process)
//          --targets mailroom,bare-pg,bare-discard,postfix,postfix-smtp-source,haraka  (default: all)
//
// Seeds a dedicated database (mailroom_bench_inbound_<ts>) with ~50 tenants, serves SPF, DKIM
// and DMARC for the sender domain from a local dns2 server, DKIM-signs every test message, and
// sends an even mix of 5 KB / 50 KB bodies × 1 / 5 recipients in two shapes:
//   A: 20 sessions, many messages each;  B: 200 concurrent sessions, one message per connection.
// `--shapes L` (not in the default run): 4 sessions sending 24 messages of 30 MB, one per
// connection, to see that the MTA's peak RSS stays near shape B's (large messages are streamed).
// Each target runs in its own child process (CPU from /proc/<pid>/stat, peak RSS from VmHWM).
// Messages count only after their 250, and the stored rows are checked against them.
//
// Baselines: bare smtp-server + pg INSERT (the ceiling here, and the ratio column's base), bare
// smtp-server discarding, and, when present, Postfix and Haraka. Postfix (Debian's `postfix`,
// needs root; install with the command its row prints) runs as a private instance under a temp
// folder relaying to Postfix's smtp-sink, queue on disk, measured twice: with the same Node load
// generator as everything else, and with its own smtp-source. Its CPU is the whole instance's
// (master and every daemon, through relaying to the sink), its memory the peak of the summed
// PSS. Haraka (npm, not a project dependency) is installed on demand by --install-baselines,
// runs as one process and discards. A baseline that is missing gets a row saying how to get it.
import { createBenchDatabase } from './lib/env.mjs';
import {
  measureTarget,
  TARGETS,
  targetStatus,
  unavailableRow,
  WARMUP_MESSAGES,
  warmupJobs,
} from './lib/inbound-run.mjs';
import { buildJobs, messagePool, senderIdentity, startDns } from './lib/mail.mjs';
import { fmt, log, machine, machineLine, markdownTable, parseFlags, ratio, saveResults } from './lib/report.mjs';
import { startBenchS3 } from './lib/s3.mjs';
import { seedHosted } from './lib/seed.mjs';

export const SHAPES = {
  A: { sessions: 20, perConnection: 'many', label: 'A: 20 sessions × many messages' },
  B: { sessions: 200, perConnection: 'one', label: 'B: 200 sessions × 1 message/connection' },
  // Not in the default run: whether memory stays flat when messages are large (a 30 MB message
  // must stream to the spool and to the database, never be held whole). Compare its peak RSS
  // with shape B's. Its own sizes, count and pool (2 signed messages of 30 MB).
  L: {
    sessions: 4,
    perConnection: 'one',
    label: 'L: 4 sessions × 30 MB messages',
    sizes: [30 * 1024 * 1024],
    recipients: [1, 2],
    count: 24,
    poolPerSize: 2,
  },
};
const SIZES = [5 * 1024, 50 * 1024];
const RECIPIENTS = [1, 5];

/** " 3.7.11" when a measured row of `target` carries its version. */
function versionOf(rows, target) {
  const row = rows.find((r) => r.target === target && r.version);
  return row ? ` ${row.version}` : '';
}

/** The Markdown table of one or more shapes' rows; ratios against the bare pg baseline. */
export function inboundTable(rows) {
  const header = [
    'shape',
    'target',
    'msg/s',
    'vs bare+pg',
    'p50 ms',
    'p99 ms',
    'CPU ms/msg',
    'DB CPU ms/msg',
    'peak RSS MB',
    'stored / expected',
    'failed',
  ];
  const body = rows.map((r) => {
    if (r.skipped) return [r.shapeLabel, r.target, r.description, '', '', '', '', '', '', '', ''];
    const base = rows.find((b) => b.shapeLabel === r.shapeLabel && b.target === 'bare-pg' && !b.skipped);
    return [
      r.shapeLabel,
      r.target,
      fmt(r.msgPerSec, 1),
      ratio(r.msgPerSec, base?.msgPerSec),
      fmt(r.p50Ms, 1),
      fmt(r.p99Ms, 1),
      fmt(r.cpuSecondsPerMsg * 1000, 2),
      fmt(r.dbCpuSecondsPerMsg === null ? null : r.dbCpuSecondsPerMsg * 1000, 2),
      fmt(r.peakRssMb, 0),
      r.expectedRows === null ? '–' : `${r.storedRows} / ${r.expectedRows}${r.rowsMatch ? ' ✓' : ' ✗'}`,
      fmt(r.failed),
    ];
  });
  return markdownTable(header, body);
}

async function main() {
  const flags = parseFlags();
  const count = Number(flags.messages ?? (flags.quick ? 500 : 2000));
  const shapes = String(flags.shapes ?? 'A,B').split(',');
  const targets = String(flags.targets ?? Object.keys(TARGETS).join(',')).split(',');
  const tenants = Number(flags.tenants ?? 50);
  const mailboxes = Number(flags.mailboxes ?? 1000);
  const logLevel = String(flags['log-level'] ?? 'warn');
  const bodies = String(flags.bodies ?? 'base64');
  if (!['base64', 'text'].includes(bodies)) throw new Error(`--bodies ${bodies}: base64 or text`);
  // Known once, before the database is made: which baselines this machine can run.
  const status = Object.fromEntries(
    targets.map((t) => [t, targetStatus(t, { install: !!flags['install-baselines'] })]),
  );

  const db = await createBenchDatabase('inbound', { keep: !!flags.keep });
  const s3 = flags['blob-store'] === 's3' ? await startBenchS3(flags['blob-s3-min-bytes'] ?? '0') : null;
  const identity = senderIdentity();
  const dns = await startDns(identity.zone);
  const rows = [];
  try {
    log(`seeding ${tenants} tenants, ${mailboxes} mailboxes`);
    const addresses = await seedHosted(db.url, { tenants, mailboxes });
    const pool = await messagePool(identity.privateKey, SIZES, 20, bodies);
    const largePools = {};
    for (const shapeName of shapes) {
      const shape = SHAPES[shapeName];
      if (!shape) throw new Error(`unknown shape ${shapeName} (A, B or L)`);
      for (const target of targets) {
        if (!status[target].ok) {
          log(`${shape.label}: ${target} skipped: ${status[target].why}`);
          rows.push({
            shape: shapeName,
            shapeLabel: shape.label,
            ...unavailableRow(target, shape, status[target].why),
          });
          continue;
        }
        const own = shape.sizes
          ? {
              pool: (largePools[shapeName] ??= await messagePool(
                identity.privateKey,
                shape.sizes,
                shape.poolPerSize,
                bodies,
              )),
              sizes: shape.sizes,
              recipientCounts: shape.recipients,
              count: Number(flags.messages ?? shape.count),
            }
          : { pool, sizes: SIZES, recipientCounts: RECIPIENTS, count };
        const jobs = buildJobs({ ...own, addresses });
        const warmup = warmupJobs({ pool, sizes: SIZES, recipientCounts: RECIPIENTS, addresses });
        log(`${shape.label}: ${target}, ${own.count} messages`);
        let row;
        try {
          row = await measureTarget({
            target,
            shape: { sessions: shape.sessions, perConnection: shape.perConnection },
            jobs,
            warmup,
            db,
            dnsPort: dns.port,
            logLevel,
            mtaEnv: s3?.env ?? {},
          });
        } catch (err) {
          // A third-party baseline that fails to start costs its row, not the run.
          if (['mailroom', 'bare-pg', 'bare-discard'].includes(target)) throw err;
          log(`${target} failed: ${err.message}`);
          row = unavailableRow(target, shape, `failed to run: ${err.message.split('\n')[0]}`);
        }
        if (status[target].version) row.version = status[target].version;
        rows.push({ shape: shapeName, shapeLabel: shape.label, ...row });
        if (!row.skipped) {
          log(`  ${fmt(row.msgPerSec, 1)} msg/s, p50 ${fmt(row.p50Ms, 1)} ms, p99 ${fmt(row.p99Ms, 1)} ms`);
        }
      }
    }
  } finally {
    await dns.close();
    await s3?.close();
    await db.drop();
  }

  const m = machine();
  const markdown = [
    `### Inbound: ${fmt(count)} messages per row${bodies === 'text' ? ', text bodies' : ''}${s3 ? `, bodies in S3 (s3rver, BLOB_S3_MIN_BYTES=${s3.minBytes})` : ''}`,
    '',
    `Machine: ${machineLine(m)}. Mix: 5 KB and 50 KB ${bodies === 'text' ? 'prose (text/plain)' : 'base64 (random bytes)'} bodies × 1 and 5 recipients (even), recipients`,
    `spread over ${tenants} tenants / ${fmt(mailboxes)} mailboxes; every message DKIM-signed, SPF/DKIM/DMARC`,
    'checked against a local dns2 server. msg/s counts only messages answered 250 (first connect to',
    'last 250); latency is end of DATA → 250; CPU is the server process only, DB CPU the PostgreSQL',
    'backends serving it. Plaintext SMTP from 50 loopback addresses. smtp-server waits 100 ms before',
    `its greeting, which dominates shape B. Before each row, untimed: ${WARMUP_MESSAGES} messages through the same`,
    'target, then ANALYZE (the statistics autovacuum keeps on a live server), all rows in one database.',
    '',
    `Postfix${versionOf(rows, 'postfix')}: a private instance relaying everything to Postfix's smtp-sink, queue on disk,`,
    'smtpd process limit 250 (default 100), no content checks, no DKIM/SPF/DMARC; CPU is every process of',
    'the instance (master, smtpd, cleanup, qmgr, smtp, ...) up to the queue being empty, so relaying to',
    'the sink is included; peak RSS is the peak of their summed PSS; stored = messages the sink received.',
    '`postfix-smtp-source` loads the same relay with smtp-source (one run per size × recipients group,',
    `all at once, from 127.0.0.1; it does not time single messages). Haraka${versionOf(rows, 'haraka')}: one`,
    `process (nodes=0), a local plugin accepting every recipient and discarding, logging at ${logLevel}.`,
    '',
    inboundTable(rows),
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const files = saveResults(
    `inbound${s3 ? '-s3' : ''}${bodies === 'text' ? '-text' : ''}`,
    { messages: count, tenants, mailboxes, blobStore: s3 ? 's3' : 'db', bodies, rows },
    markdown,
  );
  log(`saved ${files.json} and ${files.md}`);
  if (rows.some((r) => r.rowsMatch === false)) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
