// Postfix as the outbound comparison: a private instance (its own config, queue and data
// directories under /tmp, smtpd on 127.0.0.1:<high port> only, nothing on port 25) relaying
// everything to the bench sink. Needs the postfix package and root (the master starts as root
// and runs its daemons as the postfix user). Logs go to <dir>/maillog.
//
// CPU: Postfix is a family of processes that come and go, so it is the master's own time, plus
// what its exited children used (cutime/cstime, the master reaps them), plus its live children.
import { execFileSync, spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort, waitForPort } from './env.mjs';
import { log, sleep } from './report.mjs';

const CLK_TCK = Number(execFileSync('getconf', ['CLK_TCK']).toString().trim()) || 100;

/** The postfix command, or null when Postfix is not installed or we are not root. */
export function postfixCommand() {
  const candidates = ['/usr/sbin/postfix', '/usr/local/sbin/postfix'];
  const found = candidates.find((c) => fs.existsSync(c));
  if (!found || process.getuid?.() !== 0) return null;
  return found;
}

function statFields(pid) {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

function familyCpuSeconds(masterPid) {
  const master = statFields(masterPid);
  if (!master) return null;
  // utime, stime, cutime, cstime: fields 14-17 (indexes 11-14 after the command name).
  let ticks = [11, 12, 13, 14].reduce((sum, i) => sum + Number(master[i]), 0);
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (f && Number(f[1]) === masterPid) ticks += Number(f[11]) + Number(f[12]);
  }
  return ticks / CLK_TCK;
}

function familyPeakRssMb(masterPid) {
  let kb = 0;
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    const f = statFields(entry);
    if (!f || (Number(entry) !== masterPid && Number(f[1]) !== masterPid)) continue;
    try {
      kb += Number(/VmHWM:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${entry}/status`, 'utf8'))?.[1] ?? 0);
    } catch {
      // gone meanwhile
    }
  }
  return kb / 1024;
}

/**
 * Starts a private Postfix relaying to 127.0.0.1:`sinkPort` with at most `concurrency` parallel
 * deliveries (like the workers' job concurrency) and a one-second retry schedule. With `hold`,
 * everything submitted waits in the hold queue until release(): a backlog, like queued jobs.
 */
export async function startPostfix({ command, sinkPort, concurrency, hold = false }) {
  const dir = fs.mkdtempSync('/tmp/mailroom-bench-postfix-');
  fs.chmodSync(dir, 0o755); // the postfix user must reach its queue
  const etc = path.join(dir, 'etc');
  const queue = path.join(dir, 'queue');
  const data = path.join(dir, 'data');
  for (const d of [etc, queue, data]) fs.mkdirSync(d);
  const uid = Number(execFileSync('id', ['-u', 'postfix']).toString().trim());
  fs.chownSync(data, uid, 0);
  const port = await freePort();
  fs.writeFileSync(
    path.join(etc, 'main.cf'),
    [
      'compatibility_level = 3.6',
      `config_directory = ${etc}`,
      `queue_directory = ${queue}`,
      `data_directory = ${data}`,
      'mail_owner = postfix',
      'setgid_group = postdrop',
      'myhostname = relay.bench.test',
      'mydomain = bench.test',
      'mydestination =',
      'inet_interfaces = 127.0.0.1',
      'inet_protocols = ipv4',
      'mynetworks = 127.0.0.0/8',
      `relayhost = [127.0.0.1]:${sinkPort}`,
      'smtp_dns_support_level = disabled',
      'alias_maps =',
      'alias_database =',
      'local_recipient_maps =',
      'biff = no',
      `maillog_file = ${path.join(dir, 'maillog')}`,
      'maillog_file_prefixes = /tmp',
      hold
        ? 'smtpd_relay_restrictions = check_client_access static:HOLD, permit_mynetworks, reject'
        : 'smtpd_relay_restrictions = permit_mynetworks, reject',
      `default_destination_concurrency_limit = ${concurrency}`,
      // The retry schedule the workers get in tempfail mode: one second.
      'queue_run_delay = 1s',
      'minimal_backoff_time = 1s',
      'maximal_backoff_time = 1s',
      '',
    ].join('\n'),
  );
  const service = (name, type, priv, chroot, wakeup, limit, cmd) =>
    `${name} ${type} ${priv} - ${chroot} ${wakeup} ${limit} ${cmd}`;
  fs.writeFileSync(
    path.join(etc, 'master.cf'),
    [
      service(`127.0.0.1:${port}`, 'inet', 'n', 'n', '-', '-', 'smtpd'),
      service('pickup', 'unix', 'n', 'n', '60', '1', 'pickup'),
      service('cleanup', 'unix', 'n', 'n', '-', '0', 'cleanup'),
      service('qmgr', 'unix', 'n', 'n', '300', '1', 'qmgr'),
      service('rewrite', 'unix', '-', 'n', '-', '-', 'trivial-rewrite'),
      service('bounce', 'unix', '-', 'n', '-', '0', 'bounce'),
      service('defer', 'unix', '-', 'n', '-', '0', 'bounce'),
      service('trace', 'unix', '-', 'n', '-', '0', 'bounce'),
      service('verify', 'unix', '-', 'n', '-', '1', 'verify'),
      service('flush', 'unix', 'n', 'n', '1000?', '0', 'flush'),
      service('proxymap', 'unix', '-', 'n', '-', '-', 'proxymap'),
      service('smtp', 'unix', '-', 'n', '-', '-', 'smtp'),
      service('relay', 'unix', '-', 'n', '-', '-', 'smtp'),
      service('showq', 'unix', 'n', 'n', '-', '-', 'showq'),
      service('error', 'unix', '-', 'n', '-', '-', 'error'),
      service('retry', 'unix', '-', 'n', '-', '-', 'error'),
      service('discard', 'unix', '-', 'n', '-', '-', 'discard'),
      service('anvil', 'unix', '-', 'n', '-', '1', 'anvil'),
      service('scache', 'unix', '-', 'n', '-', '1', 'scache'),
      service('postlog', 'unix-dgram', 'n', 'n', '-', '1', 'postlogd'),
      '',
    ].join('\n'),
  );
  const postfix = (...args) => execFileSync(command, ['-c', etc, ...args], { stdio: 'pipe' });
  postfix('check');
  const child = spawn(command, ['-c', etc, 'start-fg'], { stdio: 'ignore' });
  try {
    await waitForPort(port, 30_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`postfix did not start: ${err.message}\n${readTail(path.join(dir, 'maillog'))}`);
  }
  const masterPid = Number(fs.readFileSync(path.join(queue, 'pid/master.pid'), 'utf8').trim());
  return {
    port,
    dir,
    cpu: () => familyCpuSeconds(masterPid),
    peakRssMb: () => familyPeakRssMb(masterPid),
    /** Moves the held backlog to the deferred queue and asks for its delivery now. */
    release() {
      execFileSync(path.join(path.dirname(command), 'postsuper'), ['-c', etc, '-H', 'ALL'], { stdio: 'pipe' });
      postfix('flush');
    },
    /** Messages in any queue (hold, incoming, active, deferred). */
    queued() {
      let n = 0;
      for (const q of ['hold', 'incoming', 'active', 'deferred', 'maildrop']) n += countFiles(path.join(queue, q));
      return n;
    },
    async stop() {
      if (child.exitCode === null) {
        const exited = new Promise((resolve) => child.once('exit', resolve));
        try {
          postfix('stop');
        } catch (err) {
          log(`postfix stop: ${err.message}`);
          child.kill('SIGTERM');
        }
        await Promise.race([exited, sleep(15_000)]);
      }
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}

function countFiles(dir) {
  if (!fs.existsSync(dir)) return 0;
  let n = 0;
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    n += e.isDirectory() ? countFiles(path.join(dir, e.name)) : 1;
  }
  return n;
}

function readTail(file) {
  try {
    return fs.readFileSync(file, 'utf8').slice(-3000);
  } catch {
    return '(no maillog)';
  }
}
