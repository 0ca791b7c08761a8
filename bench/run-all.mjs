// Every benchmark, one after the other (they share this machine's cores, so never in parallel),
// then bench/results/latest.md: the tables of this run, with the machine they ran on.
//
//   npm run build && node bench/run-all.mjs            (defaults: ~40-45 min on 2 cores)
//   node bench/run-all.mjs --quick                     (each with --quick)
//   node bench/run-all.mjs --only inbound,api          (a subset; other flags pass through)
//
// outbound runs three interleaved rounds of each target (--runs 3) and shows the median.
// outbound-rate, outbound-tempfail and outbound-retry are bench/outbound.mjs in its other modes,
// shortened here: 300 messages/s for 20 s (not the 60 s), 1,000 deliveries with 1 in 10
// deferred, and due retries under a backlog of 2,000 (its default).
// Flags given here come after these, so they win (--duration 60, --messages 10000).
// bench/retention.mjs is run too when --only names it (it takes its size from BENCH_MESSAGES).
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { log, machine, machineLine, parseFlags, resultsDir, root } from './lib/report.mjs';

const DEFAULT = ['inbound', 'outbound', 'outbound-rate', 'outbound-tempfail', 'outbound-retry', 'api', 'scale', 'imap'];
const argv = process.argv.slice(2);
const flags = parseFlags(argv);
// Name -> script and the arguments it gets before the pass-through flags; others run <name>.mjs.
const VARIANTS = {
  // A backlog drains in seconds: three interleaved rounds, the median shown (bench/outbound.mjs).
  outbound: ['outbound', ...(flags.quick ? [] : ['--runs', '3'])],
  'outbound-rate': ['outbound', '--mode', 'rate', '--rate', '300', ...(flags.quick ? [] : ['--duration', '20'])],
  'outbound-tempfail': ['outbound', '--mode', 'tempfail', ...(flags.quick ? [] : ['--messages', '1000'])],
  'outbound-retry': ['outbound', '--mode', 'retry'],
};
const only = flags.only ? String(flags.only).split(',') : DEFAULT;
const passThrough = [];
for (let i = 0; i < argv.length; i++) {
  if (argv[i] === '--only') i++;
  else if (!argv[i].startsWith('--only=')) passThrough.push(argv[i]);
}

const sections = [];
let failed = false;
for (const name of only) {
  log(`=== ${name}`);
  const started = Date.now();
  const [script, ...args] = VARIANTS[name] ?? [name];
  const run = spawnSync(process.execPath, [path.join(root, 'bench', `${script}.mjs`), ...args, ...passThrough], {
    cwd: root,
    stdio: ['ignore', 'inherit', 'inherit'],
  });
  log(`=== ${name}: exit ${run.status} after ${Math.round((Date.now() - started) / 1000)} s`);
  if (run.status !== 0) failed = true;
  const md = path.join(resultsDir, `latest-${name}.md`);
  if (fs.existsSync(md)) sections.push(fs.readFileSync(md, 'utf8').trim());
}
const summary = [
  '## Mailroom benchmarks',
  '',
  `Run ${new Date().toISOString()} on ${machineLine(machine())} (\`node bench/run-all.mjs ${argv.join(' ')}\`).`,
  'Each table has a raw baseline measured in the same run: compare ratios, not absolute times.',
  '',
  ...sections.flatMap((s) => [s, '']),
].join('\n');
fs.writeFileSync(path.join(resultsDir, 'latest.md'), summary);
log(`wrote ${path.relative(root, path.join(resultsDir, 'latest.md'))}`);
process.exit(failed ? 1 : 0);
