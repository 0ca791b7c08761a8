// Inbound MX throughput and latency, beside raw baselines measured in the same run.
//
//   npm run build && node bench/inbound.mjs                 (2,000 messages per row, ~3-5 min)
//   node bench/inbound.mjs --messages 10000                 (the full run)
//   node bench/inbound.mjs --quick                          (500 messages per row)
//   flags: --shapes A,B  --targets mailroom,bare-pg,bare-discard  --tenants 50  --mailboxes 1000
//          --log-level warn  --keep (keep the database)
//
// Seeds a dedicated database (mailroom_bench_inbound_<ts>) with ~50 tenants, serves SPF, DKIM
// and DMARC for the sender domain from a local dns2 server, DKIM-signs every test message, and
// sends an even mix of 5 KB / 50 KB bodies × 1 / 5 recipients in two shapes:
//   A: 20 sessions, many messages each;  B: 200 concurrent sessions, one message per connection.
// Each target runs in its own child process (CPU from /proc/<pid>/stat, peak RSS from VmHWM).
// Messages count only after their 250, and the stored rows are checked against them.
import { createBenchDatabase } from './lib/env.mjs';
import { measureTarget, notInstalledRows, TARGETS } from './lib/inbound-run.mjs';
import { buildJobs, messagePool, senderIdentity, startDns } from './lib/mail.mjs';
import { fmt, log, machine, machineLine, markdownTable, parseFlags, ratio, saveResults } from './lib/report.mjs';
import { seedHosted } from './lib/seed.mjs';

export const SHAPES = {
  A: { sessions: 20, perConnection: 'many', label: 'A: 20 sessions × many messages' },
  B: { sessions: 200, perConnection: 'one', label: 'B: 200 sessions × 1 message/connection' },
};
const SIZES = [5 * 1024, 50 * 1024];
const RECIPIENTS = [1, 5];

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
    'rows stored / expected',
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

  const db = await createBenchDatabase('inbound', { keep: !!flags.keep });
  const identity = senderIdentity();
  const dns = await startDns(identity.zone);
  const rows = [];
  try {
    log(`seeding ${tenants} tenants, ${mailboxes} mailboxes`);
    const addresses = await seedHosted(db.url, { tenants, mailboxes });
    const pool = await messagePool(identity.privateKey, SIZES);
    for (const shapeName of shapes) {
      const shape = SHAPES[shapeName];
      if (!shape) throw new Error(`unknown shape ${shapeName} (A or B)`);
      for (const target of targets) {
        const jobs = buildJobs({ count, pool, sizes: SIZES, recipientCounts: RECIPIENTS, addresses });
        const warmup = buildJobs({ count: 40, pool, sizes: SIZES, recipientCounts: RECIPIENTS, addresses, seed: 7 });
        log(`${shape.label}: ${target}, ${count} messages`);
        const row = await measureTarget({
          target,
          shape: { sessions: shape.sessions, perConnection: shape.perConnection },
          jobs,
          warmup,
          db,
          dnsPort: dns.port,
          logLevel,
        });
        rows.push({ shape: shapeName, shapeLabel: shape.label, ...row });
        log(`  ${fmt(row.msgPerSec, 1)} msg/s, p50 ${fmt(row.p50Ms, 1)} ms, p99 ${fmt(row.p99Ms, 1)} ms`);
      }
      for (const r of notInstalledRows(shape)) rows.push({ shape: shapeName, shapeLabel: shape.label, ...r });
    }
  } finally {
    await dns.close();
    await db.drop();
  }

  const m = machine();
  const markdown = [
    `### Inbound: ${fmt(count)} messages per row`,
    '',
    `Machine: ${machineLine(m)}. Mix: 5 KB and 50 KB bodies × 1 and 5 recipients (even), recipients`,
    `spread over ${tenants} tenants / ${fmt(mailboxes)} mailboxes; every message DKIM-signed, SPF/DKIM/DMARC`,
    'checked against a local dns2 server. msg/s counts only messages answered 250 (first connect to',
    'last 250); latency is end of DATA → 250; CPU is the server process only, DB CPU the PostgreSQL',
    'backends serving it. Plaintext SMTP from 50 loopback addresses. smtp-server waits 100 ms before',
    'its greeting, which dominates shape B.',
    '',
    inboundTable(rows),
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const files = saveResults('inbound', { messages: count, tenants, mailboxes, rows }, markdown);
  log(`saved ${files.json} and ${files.md}`);
  if (rows.some((r) => r.rowsMatch === false)) process.exitCode = 1;
}

if (import.meta.url === `file://${process.argv[1]}`) {
  main().catch((err) => {
    console.error(err);
    process.exit(1);
  });
}
