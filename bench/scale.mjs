// Does inbound throughput stay flat as the platform grows? The same inbound run (shape A, the
// same mix, SPF/DKIM/DMARC on) against databases of 10 and 1,000 tenants holding one mailbox
// each, 10,000 and 100,000 mailboxes. Recipients are drawn uniformly from every mailbox, so a
// lookup that scans instead of using an index shows up as a falling msg/s.
//
//   npm run build && node bench/scale.mjs          (800 messages per row, ~5 min)
//   node bench/scale.mjs --quick                   (300 messages per row)
//   flags: --messages N  --tenants 10,1000  --mailboxes per-tenant,10000,100000  --keep
//
// Each row has its own freshly migrated and seeded database. A bare smtp-server + pg INSERT
// row, measured in the same run against the largest database, is the ceiling.
import { createBenchDatabase } from './lib/env.mjs';
import { measureTarget, warmupJobs } from './lib/inbound-run.mjs';
import { buildJobs, messagePool, senderIdentity, startDns } from './lib/mail.mjs';
import { fmt, log, machine, machineLine, markdownTable, parseFlags, ratio, saveResults } from './lib/report.mjs';
import { seedHosted } from './lib/seed.mjs';

const SIZES = [5 * 1024, 50 * 1024];
const RECIPIENTS = [1, 5];
const SHAPE = { sessions: 20, perConnection: 'many' };

async function runOne({ tenants, mailboxes, target, count, identity, dnsPort, keep }) {
  const db = await createBenchDatabase('scale', { keep });
  try {
    const seeded = Date.now();
    const addresses = await seedHosted(db.url, { tenants, mailboxes });
    const seedSeconds = (Date.now() - seeded) / 1000;
    const pool = await messagePool(identity.privateKey, SIZES, 10);
    const jobs = buildJobs({ count, pool, sizes: SIZES, recipientCounts: RECIPIENTS, addresses });
    const warmup = warmupJobs({ pool, sizes: SIZES, recipientCounts: RECIPIENTS, addresses });
    const row = await measureTarget({ target, shape: SHAPE, jobs, warmup, db, dnsPort });
    return { tenants, mailboxes, seedSeconds, ...row };
  } finally {
    await db.drop();
  }
}

async function main() {
  const flags = parseFlags();
  const count = Number(flags.messages ?? (flags.quick ? 300 : 800));
  const tenantSizes = String(flags.tenants ?? '10,1000')
    .split(',')
    .map(Number);
  const mailboxSizes = String(flags.mailboxes ?? 'per-tenant,10000,100000').split(',');
  const identity = senderIdentity();
  const dns = await startDns(identity.zone);
  const rows = [];
  try {
    for (const tenants of tenantSizes) {
      for (const size of mailboxSizes) {
        const mailboxes = size === 'per-tenant' ? tenants : Number(size);
        log(`${fmt(tenants)} tenants, ${fmt(mailboxes)} mailboxes: mailroom, ${count} messages`);
        const row = await runOne({
          tenants,
          mailboxes,
          target: 'mailroom',
          count,
          identity,
          dnsPort: dns.port,
          keep: !!flags.keep,
        });
        rows.push(row);
        log(`  ${fmt(row.msgPerSec, 1)} msg/s, p99 ${fmt(row.p99Ms, 1)} ms`);
      }
    }
    const largest = rows.reduce((a, b) => (b.mailboxes > a.mailboxes ? b : a), rows[0]);
    log(`${fmt(largest.tenants)} tenants, ${fmt(largest.mailboxes)} mailboxes: bare-pg baseline`);
    rows.push(
      await runOne({
        tenants: largest.tenants,
        mailboxes: largest.mailboxes,
        target: 'bare-pg',
        count,
        identity,
        dnsPort: dns.port,
        keep: false,
      }),
    );
  } finally {
    await dns.close();
  }

  const first = rows[0];
  const table = markdownTable(
    [
      'tenants',
      'mailboxes',
      'target',
      'msg/s',
      'vs smallest',
      'p50 ms',
      'p99 ms',
      'CPU ms/msg',
      'DB CPU ms/msg',
      'rows stored / expected',
    ],
    rows.map((r) => [
      fmt(r.tenants),
      fmt(r.mailboxes),
      r.target,
      fmt(r.msgPerSec, 1),
      r.target === 'mailroom' ? ratio(r.msgPerSec, first.msgPerSec) : '(ceiling)',
      fmt(r.p50Ms, 1),
      fmt(r.p99Ms, 1),
      fmt(r.cpuSecondsPerMsg * 1000, 2),
      fmt(r.dbCpuSecondsPerMsg * 1000, 2),
      `${r.storedRows} / ${r.expectedRows}${r.rowsMatch ? ' ✓' : ' ✗'}`,
    ]),
  );
  const markdown = [
    `### Scale: inbound shape A (20 sessions), ${fmt(count)} messages per row`,
    '',
    `Machine: ${machineLine(machine())}. Same mix as bench/inbound.mjs (5/50 KB × 1/5 recipients, DKIM-signed,`,
    'SPF/DKIM/DMARC checked); recipients uniform over every mailbox. "Flat" means the msg/s column stays',
    'within the run-to-run noise of this machine (about ±15 % here); the DB CPU column shows scans first.',
    '',
    table,
  ].join('\n');
  console.log(`\n${markdown}\n`);
  const files = saveResults('scale', { messages: count, rows }, markdown);
  log(`saved ${files.json} and ${files.md}`);
  if (rows.some((r) => r.rowsMatch === false)) process.exitCode = 1;
}

main().catch((err) => {
  console.error(err);
  process.exit(1);
});
