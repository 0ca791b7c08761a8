// Postfix as a baseline, for bench/inbound.mjs and bench/outbound.mjs: a private instance under
// a temporary folder (its own main.cf and master.cf, queue and data directories), listening on a
// free loopback port and relaying everything, queue on disk, to a local sink; plus Postfix's own
// smtp-sink and smtp-source. Nothing of the system-wide Postfix is used but its binaries (and the
// package's file list in /etc/postfix, which `postfix check` reads): /etc/postfix needs no
// main.cf, and no system Postfix needs to run.
//
//   startSmtpSink({ port })                       → { port, messages(), stop() }
//   startPostfixRelay({ sink: { host, port }, port?, main?, smtpdProcesses?, destinationConcurrency?, hold? })
//                            → { port, dir, version, logFile, proc, queued(), drain(), release(), stop() }
//   runSmtpSource({ port, jobs, sessions, perConnection })   → like runLoad, without latencies
//
// The master runs as root (it must: it binds the port and starts each daemon as the postfix
// user), so this needs root; `postfixStatus()` says whether it can run here.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, peakSampler, treeCpuSeconds, treePssMb, waitForPort } from './env.mjs';
import { log, sleep } from './report.mjs';

const POSTFIX = '/usr/sbin/postfix';
const SMTP_SINK = '/usr/sbin/smtp-sink';
const SMTP_SOURCE = '/usr/sbin/smtp-source';
const POSTCONF = '/usr/sbin/postconf';
const POSTSUPER = '/usr/sbin/postsuper';
const MAIL_OWNER = 'postfix';

/** How to get Postfix on Debian without it configuring (or starting) a system-wide instance. */
export const POSTFIX_INSTALL_HINT =
  'echo "postfix postfix/main_mailer_type select No configuration" | debconf-set-selections; ' +
  'DEBIAN_FRONTEND=noninteractive apt-get install -y postfix';

/** { ok, version } when Postfix, smtp-sink and smtp-source are installed and we are root; else { ok: false, why }. */
export function postfixStatus() {
  const missing = [POSTFIX, POSTCONF, POSTSUPER, SMTP_SINK, SMTP_SOURCE].filter((p) => !fs.existsSync(p));
  if (missing.length > 0) return { ok: false, why: `not installed (${POSTFIX_INSTALL_HINT})` };
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (the master binds and changes user)' };
  try {
    const version = execFileSync(POSTCONF, ['-d', '-h', 'mail_version'], { stdio: 'pipe' }).toString().trim();
    return { ok: true, version };
  } catch (err) {
    return { ok: false, why: `postconf failed: ${err.message.split('\n')[0]}` };
  }
}

/**
 * Postfix's smtp-sink on `port` (free if omitted): accepts everything and throws it away, and
 * prints a running "sess=.. quit=.. mesg=N" counter (-c) that `messages()` reads: how many
 * messages it has received, to check the relay against what it acknowledged.
 */
export async function startSmtpSink({ port } = {}) {
  port ??= await freePort();
  // -u: drop root after binding; 256: listen backlog. Postfix's client reuses its connections.
  const child = spawn(SMTP_SINK, ['-c', '-u', MAIL_OWNER, '-h', 'sink.bench.test', `127.0.0.1:${port}`, '256'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let received = 0;
  let tail = '';
  const onOutput = (chunk) => {
    tail = (tail + chunk.toString()).slice(-4096);
    const all = [...tail.matchAll(/mesg=(\d+)/g)];
    if (all.length > 0) received = Number(all[all.length - 1][1]);
  };
  child.stdout.on('data', onOutput);
  child.stderr.on('data', (chunk) => (tail = (tail + chunk.toString()).slice(-4096)));
  try {
    await waitForPort(port, 10_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`smtp-sink did not start: ${err.message}\n${tail}`);
  }
  return {
    port,
    pid: child.pid,
    messages: () => received,
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    },
  };
}

function mainCf({ dir, sink, extra }) {
  const settings = {
    compatibility_level: '3.6',
    queue_directory: path.join(dir, 'queue'),
    data_directory: path.join(dir, 'data'),
    myhostname: 'relay.bench.test',
    mydomain: 'bench.test',
    myorigin: '$myhostname',
    // Nothing is local: every recipient is relayed, so every address is accepted from mynetworks.
    mydestination: '',
    local_recipient_maps: '',
    alias_maps: '',
    alias_database: '',
    inet_interfaces: '127.0.0.1',
    inet_protocols: 'ipv4',
    mynetworks: '127.0.0.0/8',
    relayhost: `[${sink.host}]:${sink.port}`,
    // No DNS anywhere: the relayhost is a bracketed address and clients are not looked up.
    smtp_dns_support_level: 'disabled',
    smtp_host_lookup: 'native',
    smtpd_peername_lookup: 'no',
    smtpd_client_restrictions: '',
    smtpd_helo_restrictions: '',
    smtpd_sender_restrictions: '',
    smtpd_recipient_restrictions: '',
    smtpd_relay_restrictions: 'permit_mynetworks, reject',
    smtpd_delay_reject: 'yes',
    // The same limit as the Node servers; the bench's largest messages are ~52 KB.
    message_size_limit: '52428800',
    biff: 'no',
    // Logging through postlogd into the folder: there is no syslog here, and the log is the
    // first place to look when a run fails. Postfix logs a few lines per message, as it would.
    maillog_file: path.join(dir, 'maillog'),
    maillog_file_prefixes: dir,
    ...extra,
  };
  return `${Object.entries(settings)
    .map(([k, v]) => `${k} = ${v}`)
    .join('\n')}\n`;
}

// No chroot (nothing to copy into it). Postfix runs one smtpd per client session, so
// `smtpdProcesses` bounds concurrent sessions; the master also uses it as the listen backlog.
// `pickup` (maildrop, unused here) only with `withPickup`: `postfix flush` (postqueue -f) takes
// a missing public/pickup for a mail system that is down.
function masterCf(port, smtpdProcesses, withPickup) {
  const services = [
    [`${port}`, 'inet', 'n', '-', 'n', '-', String(smtpdProcesses), 'smtpd'],
    ...(withPickup ? [['pickup', 'unix', 'n', '-', 'n', '60', '1', 'pickup']] : []),
    ['cleanup', 'unix', 'n', '-', 'n', '-', '0', 'cleanup'],
    ['qmgr', 'unix', 'n', '-', 'n', '300', '1', 'qmgr'],
    ['rewrite', 'unix', '-', '-', 'n', '-', '-', 'trivial-rewrite'],
    ['bounce', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['defer', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['trace', 'unix', '-', '-', 'n', '-', '0', 'bounce'],
    ['verify', 'unix', '-', '-', 'n', '-', '1', 'verify'],
    ['flush', 'unix', 'n', '-', 'n', '1000?', '0', 'flush'],
    ['proxymap', 'unix', '-', '-', 'n', '-', '-', 'proxymap'],
    ['proxywrite', 'unix', '-', '-', 'n', '-', '1', 'proxymap'],
    ['smtp', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['relay', 'unix', '-', '-', 'n', '-', '-', 'smtp'],
    ['showq', 'unix', 'n', '-', 'n', '-', '-', 'showq'],
    ['error', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['retry', 'unix', '-', '-', 'n', '-', '-', 'error'],
    ['discard', 'unix', '-', '-', 'n', '-', '-', 'discard'],
    ['local', 'unix', '-', 'n', 'n', '-', '-', 'local'],
    ['anvil', 'unix', '-', '-', 'n', '-', '1', 'anvil'],
    ['scache', 'unix', '-', '-', 'n', '-', '1', 'scache'],
    ['postlog', 'unix-dgram', 'n', '-', 'n', '-', '1', 'postlogd'],
  ];
  return `${services.map((s) => s.join('\t')).join('\n')}\n`;
}

/** Queue files not yet delivered (incoming, active, deferred, hold, maildrop), counted on disk. */
function queuedFiles(queueDir) {
  let n = 0;
  const walk = (d) => {
    let entries;
    try {
      entries = fs.readdirSync(d, { withFileTypes: true });
    } catch {
      return;
    }
    for (const e of entries) {
      if (e.isDirectory()) walk(path.join(d, e.name));
      else n++;
    }
  };
  for (const sub of ['maildrop', 'incoming', 'active', 'deferred', 'hold']) walk(path.join(queueDir, sub));
  return n;
}

/**
 * Starts a private Postfix relaying every message to `sink` ({ host, port }, an SMTP server on
 * loopback). Its smtpd listens on 127.0.0.1:`port` (free if omitted); `smtpdProcesses` is smtpd's
 * process limit, the most concurrent sessions (Postfix's default: 100; more wait in the listen
 * queue); `destinationConcurrency`, when given, is default_destination_concurrency_limit, the
 * most parallel deliveries to the sink (Postfix's default: 20). With `hold`, every message
 * accepted goes to the hold queue and stays there until `release()`: a backlog filled untimed.
 * `main` adds or overrides main.cf settings last (e.g. retry timing).
 *
 * The master runs in the foreground (`postfix start-fg`) as our child, so the whole instance is
 * one process tree: `proc.cpu()` is its CPU (every daemon, including the ones already gone) and
 * `proc.peakRssMb()` the peak of its summed PSS, sampled twice a second since the start.
 * `queued()` counts undelivered queue files (the hold queue included); `drain()` waits until
 * there are none. `stop()` stops the instance and removes the folder.
 */
export async function startPostfixRelay({
  sink,
  port,
  main = {},
  smtpdProcesses = 100,
  destinationConcurrency,
  hold = false,
  label = 'postfix',
}) {
  const status = postfixStatus();
  if (!status.ok) throw new Error(`Postfix: ${status.why}`);
  port ??= await freePort();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-postfix-'));
  // mkdtemp makes it 0700: the daemons run as the postfix user and must reach the queue in it.
  fs.chmodSync(dir, 0o755);
  const config = path.join(dir, 'etc');
  fs.mkdirSync(config);
  fs.mkdirSync(path.join(dir, 'queue'));
  fs.mkdirSync(path.join(dir, 'data'));
  const uid = Number(execFileSync('id', ['-u', MAIL_OWNER]).toString().trim());
  fs.chownSync(path.join(dir, 'data'), uid, -1);
  const extra = {
    ...(destinationConcurrency ? { default_destination_concurrency_limit: String(destinationConcurrency) } : {}),
    // HOLD from every client: each message is accepted (the 250 after DATA) into the hold queue.
    ...(hold ? { smtpd_relay_restrictions: 'check_client_access static:HOLD, permit_mynetworks, reject' } : {}),
    ...main,
  };
  fs.writeFileSync(path.join(config, 'main.cf'), mainCf({ dir, sink, extra }));
  fs.writeFileSync(path.join(config, 'master.cf'), masterCf(port, smtpdProcesses, hold));
  const logFile = path.join(dir, 'maillog');
  const env = { PATH: process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin' };
  const remove = () => fs.rmSync(dir, { recursive: true, force: true });
  try {
    // `check` creates the queue's subdirectories with the owners and modes Postfix wants.
    execFileSync(POSTFIX, ['-c', config, 'check'], { env, stdio: 'pipe' });
  } catch (err) {
    remove();
    throw new Error(`postfix check failed: ${err.stderr?.toString() || err.message}`);
  }

  const out = fs.openSync(path.join(dir, 'start-fg.log'), 'a');
  const child = spawn(POSTFIX, ['-c', config, 'start-fg'], { env, stdio: ['ignore', out, out] });
  fs.closeSync(out);
  const readLog = () => {
    try {
      return fs.readFileSync(logFile, 'utf8').slice(-3000) + fs.readFileSync(path.join(dir, 'start-fg.log'), 'utf8');
    } catch {
      return '';
    }
  };
  try {
    await waitForPort(port, 30_000, child);
  } catch (err) {
    await stopInstance(config, child);
    const text = readLog();
    remove();
    throw new Error(`${label} did not start: ${err.message}\n${text}`);
  }
  const memory = peakSampler(() => treePssMb(child.pid));
  const queueDir = path.join(dir, 'queue');
  return {
    port,
    dir,
    version: status.version,
    logFile,
    proc: {
      pid: child.pid,
      cpu: () => treeCpuSeconds(child.pid),
      peakRssMb: () => memory.peak(),
    },
    queued: () => queuedFiles(queueDir),
    /** Waits until the queue is empty; gives up after `stallMs` without progress. True when empty. */
    async drain({ stallMs = 15_000 } = {}) {
      let last = queuedFiles(queueDir);
      let lastChange = Date.now();
      while (last > 0) {
        if (Date.now() - lastChange > stallMs) {
          log(`${label}: ${last} messages still queued after ${stallMs} ms without progress (see ${logFile})`);
          return false;
        }
        await sleep(100);
        const n = queuedFiles(queueDir);
        if (n !== last) lastChange = Date.now();
        last = n;
      }
      return true;
    },
    /**
     * Releases the hold queue (postsuper -H moves it to the deferred queue) and asks for the
     * delivery of all deferred mail now (`postfix flush`) instead of at the next queue run.
     */
    release() {
      execFileSync(POSTSUPER, ['-c', config, '-H', 'ALL'], { env, stdio: 'pipe' });
      execFileSync(POSTFIX, ['-c', config, 'flush'], { env, stdio: 'pipe' });
    },
    async stop({ keep = false } = {}) {
      memory.stop();
      await stopInstance(config, child);
      if (keep) log(`${label}: kept ${dir}`);
      else remove();
    },
  };
}

/** `postfix stop` (the master passes SIGTERM on to its daemons), then waits for start-fg to end. */
async function stopInstance(config, child) {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  try {
    execFileSync(POSTFIX, ['-c', config, 'stop'], { stdio: 'pipe' });
  } catch {
    // Not running yet, or already stopping: the kill below covers it.
  }
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/**
 * Postfix's own load generator against `port`. smtp-source sends one size and one recipient
 * count per run, so the jobs' mix is split into one smtp-source per (size, recipients) group,
 * all at once, with the sessions shared out in proportion; -l is the group's average raw
 * message size (smtp-source adds its own few headers). `perConnection: 'many'` keeps each
 * session's connection (-d), 'one' reconnects for each message (smtp-source's default).
 * Returns { acked, ackedRecipients, failed, errors, latencies: [], wallSeconds }: smtp-source
 * does not time single messages, and it stops at the first unexpected reply.
 */
export async function runSmtpSource({ port, jobs, sessions, perConnection }) {
  const groups = new Map();
  for (const job of jobs) {
    const key = `${job.size}:${job.to.length}`;
    const g = groups.get(key) ?? { count: 0, bytes: 0, rcpts: job.to.length, from: job.from, to: job.to[0] };
    g.count++;
    g.bytes += job.raw.length;
    groups.set(key, g);
  }
  const started = performance.now();
  const results = await Promise.all(
    [...groups.values()].map((g) => {
      const groupSessions = Math.max(1, Math.round((sessions * g.count) / jobs.length));
      const args = [
        ...(perConnection === 'many' ? ['-d'] : []),
        '-c',
        ['-s', groupSessions],
        ['-m', g.count],
        ['-l', Math.round(g.bytes / g.count)],
        ['-r', g.rcpts],
        // -N numbers the recipients (1r@..., 2r@...), so -r gives distinct addresses.
        '-N',
        ['-f', g.from],
        ['-t', g.to],
        ['-M', 'client.bench.test'],
        `127.0.0.1:${port}`,
      ].flat();
      return new Promise((resolve) => {
        const child = spawn(SMTP_SOURCE, args.map(String), { stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (c) => (stdout = (stdout + c.toString()).slice(-1024)));
        child.stderr.on('data', (c) => (stderr = (stderr + c.toString()).slice(-2048)));
        child.on('exit', (code) => {
          // -c prints a running count of completed DATA commands, separated by \r.
          const counts = stdout.match(/\d+/g);
          const acked = code === 0 ? g.count : Math.min(g.count, Number(counts?.[counts.length - 1] ?? 0));
          resolve({ g, acked, code, error: code === 0 ? null : stderr.trim().split('\n').pop() });
        });
      });
    }),
  );
  const wallSeconds = (performance.now() - started) / 1000;
  const errors = {};
  let acked = 0;
  let ackedRecipients = 0;
  let failed = 0;
  for (const r of results) {
    acked += r.acked;
    ackedRecipients += r.acked * r.g.rcpts;
    failed += r.g.count - r.acked;
    if (r.error) errors[`smtp-source exit ${r.code}: ${r.error}`.slice(0, 120)] = r.g.count - r.acked;
  }
  return { acked, ackedRecipients, failed, errors, latencies: [], wallSeconds };
}
