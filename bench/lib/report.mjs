// Shared by every benchmark: command-line flags, percentiles, the machine description, the
// Markdown table and the result files under bench/results/.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const resultsDir = path.join(root, 'bench/results');

/** `--messages 500 --quick --keep` → { messages: '500', quick: true, keep: true }. */
export function parseFlags(argv = process.argv.slice(2)) {
  const flags = {};
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i];
    if (!arg.startsWith('--')) continue;
    const [name, inline] = arg.slice(2).split('=', 2);
    if (inline !== undefined) flags[name] = inline;
    else if (argv[i + 1] !== undefined && !argv[i + 1].startsWith('--')) flags[name] = argv[++i];
    else flags[name] = true;
  }
  return flags;
}

/** The value at quantile q (0..1) of an array of numbers, nearest-rank; null when empty. */
export function percentile(values, q) {
  if (values.length === 0) return null;
  const sorted = Float64Array.from(values).sort();
  const rank = Math.min(sorted.length - 1, Math.max(0, Math.ceil(q * sorted.length) - 1));
  return sorted[rank];
}

export function machine() {
  const cpus = os.cpus();
  return {
    cpu: cpus[0]?.model.trim() ?? 'unknown',
    cores: cpus.length,
    memoryGb: Math.round(os.totalmem() / 2 ** 30),
    node: process.version,
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    hostname: os.hostname(),
  };
}

export function machineLine(m = machine()) {
  return `${m.cpu}, ${m.cores} cores, ${m.memoryGb} GB RAM, Node ${m.node}, ${m.os}`;
}

/** Number formatting for tables: null/undefined print as an en dash. */
export function fmt(value, digits = 0) {
  if (value === null || value === undefined || Number.isNaN(value)) return '–';
  if (typeof value === 'string') return value;
  return value.toLocaleString('en-US', { minimumFractionDigits: digits, maximumFractionDigits: digits });
}

/** `a / b` as "0.42×", or a dash when either is missing. */
export function ratio(a, b, digits = 2) {
  if (a === null || a === undefined || b === null || b === undefined || b === 0) return '–';
  return `${(a / b).toFixed(digits)}×`;
}

/** A GitHub Markdown table; `align` is 'l' or 'r' per column. */
export function markdownTable(header, rows, align = header.map((_, i) => (i === 0 ? 'l' : 'r'))) {
  const line = (cells) => `| ${cells.join(' | ')} |`;
  return [
    line(header),
    line(align.map((a) => (a === 'r' ? '---:' : '---'))),
    ...rows.map((r) => line(r.map((c) => String(c)))),
  ].join('\n');
}

/**
 * Writes bench/results/<name>-<timestamp>.json (everything measured) and
 * bench/results/latest-<name>.md (the printed report), and returns their paths.
 */
export function saveResults(name, data, markdown) {
  fs.mkdirSync(resultsDir, { recursive: true });
  const stamp = new Date().toISOString().replace(/[:.]/g, '-');
  const json = path.join(resultsDir, `${name}-${stamp}.json`);
  const md = path.join(resultsDir, `latest-${name}.md`);
  fs.writeFileSync(json, JSON.stringify({ name, at: new Date().toISOString(), machine: machine(), ...data }, null, 2));
  fs.writeFileSync(md, `${markdown}\n`);
  return { json: path.relative(root, json), md: path.relative(root, md) };
}

export function log(message) {
  process.stderr.write(`[bench] ${message}\n`);
}

export const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
