// Haraka as a baseline: the Node SMTP server most often put in front of mail platforms, here
// accepting every recipient and discarding each message after its DATA (a ceiling for a
// plugin-based Node MTA). Not a dependency of the project: `installHaraka()` puts it into a
// cache folder outside the lockfile (.mailroom/bench-tools/haraka), only when asked for.
//
//   installHaraka()                    npm install --prefix .mailroom/bench-tools/haraka Haraka@<HARAKA_VERSION>
//   harakaStatus()                     → { ok, version } or { ok: false, why }
//   startHaraka({ port, dnsPort, logLevel })   → { port, dir, version, proc (startNode's), stop() }
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, startNode } from './env.mjs';
import { log, root } from './report.mjs';

/** 3.3.4 runs on Node 20 (some of its dependencies declare >=22 but install and run here). */
export const HARAKA_VERSION = '3.3.4';
export const HARAKA_DIR = path.join(root, '.mailroom/bench-tools/haraka');
const PACKAGE = path.join(HARAKA_DIR, 'node_modules/Haraka');

export const HARAKA_INSTALL_HINT = 'node bench/inbound.mjs --install-baselines';

/** { ok: true, version } when Haraka is in the cache folder, else { ok: false, why }. */
export function harakaStatus() {
  try {
    const { version } = JSON.parse(fs.readFileSync(path.join(PACKAGE, 'package.json'), 'utf8'));
    return { ok: true, version };
  } catch {
    return { ok: false, why: `not installed (${HARAKA_INSTALL_HINT})` };
  }
}

/**
 * Installs Haraka into the cache folder. Its optional dependencies are ~30 plugins (and their
 * clients) that the bench does not load, so they are left out.
 */
export function installHaraka() {
  fs.mkdirSync(HARAKA_DIR, { recursive: true });
  log(`installing Haraka@${HARAKA_VERSION} into ${path.relative(root, HARAKA_DIR)}`);
  try {
    execFileSync(
      'npm',
      ['install', '--prefix', HARAKA_DIR, '--omit=optional', '--no-audit', '--no-fund', `Haraka@${HARAKA_VERSION}`],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
  } catch (err) {
    // A failed install costs Haraka's row, not the run.
    const why = (err.stderr?.toString() || err.message).trim().split('\n').pop();
    return { ok: false, why: `npm install Haraka@${HARAKA_VERSION} failed: ${why}` };
  }
  return harakaStatus();
}

// The only plugin: no reverse DNS of the client (Haraka's core would otherwise ask the system
// resolver for every connection's PTR), every recipient accepted, every message "queued" to
// nowhere.
const DISCARD_PLUGIN = `'use strict'
// Bench baseline: skip rDNS, accept any recipient, discard the message once DATA is complete.
exports.hook_lookup_rdns = (next) => next(OK, 'client.bench.test')
exports.hook_rcpt = (next) => next(OK)
exports.hook_queue = (next) => next(OK, 'discarded')
`;

// Preloaded into Haraka: whatever DNS query is left goes to the bench's local DNS server, never
// to the machine's resolver.
const DNS_PRELOAD = `'use strict'
require('node:dns').setServers([process.env.BENCH_DNS_SERVER])
`;

const LOG_LEVELS = ['data', 'protocol', 'debug', 'info', 'notice', 'warn', 'error', 'crit', 'alert', 'emerg'];

/**
 * Starts Haraka on 127.0.0.1:`port` from a config folder written under the OS temp dir: one
 * process (nodes=0, no cluster, so CPU and memory are one process's as for the other Node
 * targets), the discard plugin alone, logging at `logLevel`, DNS (if any) sent to
 * 127.0.0.1:`dnsPort`. `stop()` also removes the folder.
 */
export async function startHaraka({ port, dnsPort, logLevel = 'warn' }) {
  if (!dnsPort) throw new Error('startHaraka needs the local DNS server port');
  const status = harakaStatus();
  if (!status.ok) throw new Error(`Haraka: ${status.why}`);
  port ??= await freePort();
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-haraka-'));
  const dir = path.join(tmp, 'haraka');
  // `haraka -i` writes the skeleton Haraka expects (its core reads settings such as the
  // greeting from connection.ini, with no default); then the files below replace its choices.
  execFileSync(process.execPath, [path.join(PACKAGE, 'bin/haraka'), '-i', dir], { stdio: 'pipe' });
  fs.mkdirSync(path.join(dir, 'plugins'), { recursive: true });
  const write = (file, text) => fs.writeFileSync(path.join(dir, file), text);
  write('plugins/bench_discard.js', DISCARD_PLUGIN);
  write('config/plugins', 'bench_discard\n');
  // nodes=0 must be explicit: unset, Haraka 3 forks one cluster worker.
  write('config/smtp.ini', `listen=127.0.0.1:${port}\nnodes=0\n`);
  write('config/log.ini', `[main]\nlevel=${LOG_LEVELS.includes(logLevel) ? logLevel : 'warn'}\ntimestamps=true\n`);
  write('config/me', 'haraka.bench.test\n');
  write('dns-preload.cjs', DNS_PRELOAD);
  let proc;
  try {
    proc = await startNode(path.join(PACKAGE, 'bin/haraka'), {
      label: 'haraka',
      port,
      args: ['-c', dir],
      env: {
        NODE_ENV: 'production',
        NODE_OPTIONS: `--require ${path.join(dir, 'dns-preload.cjs')}`,
        BENCH_DNS_SERVER: `127.0.0.1:${dnsPort}`,
      },
    });
  } catch (err) {
    fs.rmSync(tmp, { recursive: true, force: true });
    throw err;
  }
  return {
    port,
    dir,
    version: status.version,
    proc,
    async stop() {
      await proc.stop();
      fs.rmSync(tmp, { recursive: true, force: true });
    },
  };
}
