// Dovecot as the IMAP baseline: a private instance under a temporary folder (its own config
// file, base_dir, state_dir, log and Maildirs), IMAP, IMAPS and POP3 on free loopback ports,
// passwd-file passdb with the same argon2id hashes Mailroom holds, a static userdb, and the
// auth cache on or off. Nothing of the system-wide Dovecot is used but its binaries (Debian's
// dovecot-imapd / dovecot-pop3d); no system service is started or needed.
//
//   const dc = createDovecotDir()                         → { dir, mailDir(user), passwd }
//   openMaildir(dc.mailDir(user), folder).add(messages)   (files with S= sizes; close() writes a
//                                                          dovecot-uidlist: the same UIDs as Mailroom's)
//   startDovecot({ dir, users, tls, authCache, maxConnections }) → { imapsPort, imapPort, pop3Port, pid, processes(), stop() }
//
// The master runs as root (it binds, then runs login processes as dovenull, auth as dovecot and
// each imap process as the mail user), so this needs root; `dovecotStatus()` says whether it can.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { freePort, processTree, waitForPort } from './env.mjs';
import { sleep } from './report.mjs';

const DOVECOT = '/usr/sbin/dovecot';
const MAIL_USER = 'mail';

/** { ok, version } when Dovecot (imapd and pop3d) is installed and we are root; else { ok: false, why }. */
export function dovecotStatus() {
  if (!fs.existsSync(DOVECOT) || !fs.existsSync('/usr/lib/dovecot/imap')) {
    return { ok: false, why: 'not installed (apt-get install -y dovecot-imapd dovecot-pop3d)' };
  }
  if (process.getuid?.() !== 0) return { ok: false, why: 'needs root (the master binds and changes user)' };
  try {
    const version = execFileSync(DOVECOT, ['--version'], { stdio: 'pipe' }).toString().trim().split(' ')[0];
    return { ok: true, version };
  } catch (err) {
    return { ok: false, why: `dovecot --version failed: ${err.message.split('\n')[0]}` };
  }
}

function ids(user) {
  const uid = Number(execFileSync('id', ['-u', user]).toString().trim());
  const gid = Number(execFileSync('id', ['-g', user]).toString().trim());
  return { uid, gid };
}

/** A fresh instance folder (mode 755: the mail user reaches its Maildirs through it). */
export function createDovecotDir() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-bench-dovecot-'));
  fs.chmodSync(dir, 0o755);
  for (const sub of ['run', 'state', 'mail']) fs.mkdirSync(path.join(dir, sub));
  return {
    dir,
    mailDir: (user) => path.join(dir, 'mail', user),
    remove: () => fs.rmSync(dir, { recursive: true, force: true }),
  };
}

/**
 * A Maildir folder being written, messages in UID order ({ raw, size, receivedAt, seen, flagged }):
 * INBOX is the Maildir's root, another folder is `.Name` (Maildir++). Each file is named with
 * S=<size> (Dovecot then never stats it for the size) and its flags (:2,FS), its mtime is the
 * internal date, and close() writes dovecot-uidlist giving UID i+1 to message i, as Mailroom does.
 */
export function openMaildir(userDir, folder, { uidValidity = 1 } = {}) {
  const dir = folder === 'INBOX' ? userDir : path.join(userDir, `.${folder}`);
  for (const sub of ['cur', 'new', 'tmp']) fs.mkdirSync(path.join(dir, sub), { recursive: true });
  const names = [];
  return {
    add(messages) {
      for (const m of messages) {
        const i = names.length;
        const base = `${Math.floor(m.receivedAt.getTime() / 1000)}.M${i}P1.bench,S=${m.size}`;
        const flags = `${m.flagged ? 'F' : ''}${m.seen ? 'S' : ''}`;
        const file = path.join(dir, 'cur', `${base}:2,${flags}`);
        fs.writeFileSync(file, m.raw);
        fs.utimesSync(file, m.receivedAt, m.receivedAt);
        names.push(base);
      }
    },
    close() {
      // The mailbox GUID must not be empty (Dovecot 2.3 asserts on it).
      const header = `3 V${uidValidity} N${names.length + 1} G${randomBytes(16).toString('hex')}`;
      const lines = [header, ...names.map((base, i) => `${i + 1} :${base}`)];
      fs.writeFileSync(path.join(dir, 'dovecot-uidlist'), `${lines.join('\n')}\n`);
      if (folder !== 'INBOX') fs.appendFileSync(path.join(userDir, 'subscriptions'), `${folder}\n`);
    },
  };
}

/** Gives the instance's Maildirs to the mail user (once every folder is written). */
export function chownMail(dir) {
  const { uid, gid } = ids(MAIL_USER);
  execFileSync('chown', ['-R', `${uid}:${gid}`, path.join(dir, 'mail')]);
}

function config({ dir, imapPort, imapsPort, pop3Port, authCache, maxConnections, uid, gid, tls, loginMode }) {
  const clients = maxConnections + 500;
  return `# Private benchmark instance (bench/lib/dovecot.mjs); nothing here is the system's Dovecot.
base_dir = ${dir}/run
state_dir = ${dir}/state
instance_name = mailroom-bench-${path.basename(dir)}
log_path = ${dir}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <${tls.cert}
ssl_key = <${tls.key}
ssl_dh = </usr/share/dovecot/dh.pem
disable_plaintext_auth = no
auth_mechanisms = plain login
first_valid_uid = 1
mail_location = maildir:${dir}/mail/%u
default_login_user = dovenull
default_internal_user = dovecot
# Defaults otherwise: one login process per connection (high-security mode), one imap process
# per session, no FTS plugin (SEARCH BODY reads the messages), indexes in the Maildir.
default_process_limit = 200
default_client_limit = ${clients}
auth_cache_size = ${authCache ? '10M' : '0'}
auth_cache_ttl = 1 hour
passdb {
  driver = passwd-file
  args = scheme=ARGON2ID ${dir}/passwd
}
userdb {
  driver = static
  args = uid=${uid} gid=${gid} home=${dir}/mail/%u
}
protocol imap {
  mail_max_userip_connections = ${clients}
}
protocol pop3 {
  mail_max_userip_connections = ${clients}
}
service imap-login {
${
  loginMode === 'performance'
    ? `  # High-performance mode: a few long-lived login processes, each proxying the TLS of many sessions.
  service_count = 0
  process_min_avail = ${os.cpus().length}
  client_limit = ${clients}`
    : '  # High-security mode (the default): over TLS each session keeps its own login process as its TLS proxy.'
}
  process_limit = ${clients}
  inet_listener imap {
    address = 127.0.0.1
    port = ${imapPort}
  }
  inet_listener imaps {
    address = 127.0.0.1
    port = ${imapsPort}
    ssl = yes
  }
}
service pop3-login {
  inet_listener pop3 {
    address = 127.0.0.1
    port = ${pop3Port}
  }
  inet_listener pop3s {
    port = 0
  }
}
service imap {
  process_limit = ${clients}
}
service imap-urlauth-login {
  process_limit = 10
}
service anvil {
  client_limit = ${clients + 1000}
}
service auth {
  client_limit = ${clients + 1000}
}
service stats {
  client_limit = ${clients + 1000}
}
`;
}

/**
 * The same argon2id hash in the parameter order libsodium (Dovecot's ARGON2ID) parses: node's
 * argon2 writes m=,p=,t= and libsodium reads only m=,t=,p= (same salt, same key, same cost).
 * libsodium verifies only p=1 hashes, so the benchmark's hashes are made with parallelism 1.
 */
export function sodiumArgon2(hash) {
  return hash.replace(/\$m=(\d+),p=(\d+),t=(\d+)\$/, '$m=$1,t=$3,p=$2$');
}

/**
 * Starts the instance in `dir` (from createDovecotDir) in the foreground as our child, for
 * `users` ([{ login, hash }], argon2id hashes as Mailroom stores them), with the certificate
 * `tls` ({ cert, key } file paths) on IMAPS. `authCache` turns auth_cache_size to 10M (else 0).
 * `loginMode` 'security' is Dovecot's default (a login process per connection); 'performance'
 * is its documented high-performance mode (service_count = 0: a few login processes for all).
 * Resolves once IMAPS answers.
 */
export async function startDovecot({
  dir,
  users,
  tls,
  authCache = true,
  maxConnections = 1000,
  loginMode = 'security',
}) {
  const status = dovecotStatus();
  if (!status.ok) throw new Error(`Dovecot: ${status.why}`);
  const imapPort = await freePort();
  const imapsPort = await freePort();
  const pop3Port = await freePort();
  const { uid, gid } = ids(MAIL_USER);
  const passwd = users.map((u) => `${u.login}:{ARGON2ID}${sodiumArgon2(u.hash)}::::::`);
  fs.writeFileSync(path.join(dir, 'passwd'), `${passwd.join('\n')}\n`);
  const conf = path.join(dir, 'dovecot.conf');
  fs.writeFileSync(
    conf,
    config({ dir, imapPort, imapsPort, pop3Port, authCache, maxConnections, uid, gid, tls, loginMode }),
  );
  const out = fs.openSync(path.join(dir, 'start.log'), 'a');
  const child = spawn(DOVECOT, ['-F', '-c', conf], { stdio: ['ignore', out, out] });
  fs.closeSync(out);
  // A crashed benchmark must not leave an instance behind: the master stops its children on SIGTERM.
  const onExit = () => child.kill('SIGTERM');
  process.once('exit', onExit);
  child.once('exit', () => process.removeListener('exit', onExit));
  const readLog = () => {
    let text = '';
    for (const f of ['dovecot.log', 'start.log']) {
      try {
        text += fs.readFileSync(path.join(dir, f), 'utf8').slice(-3000);
      } catch {
        // not written yet
      }
    }
    return text;
  };
  try {
    await waitForPort(imapsPort, 30_000, child);
  } catch (err) {
    child.kill('SIGKILL');
    throw new Error(`dovecot did not start: ${err.message}\n${readLog()}`);
  }
  return {
    imapPort,
    imapsPort,
    pop3Port,
    pid: child.pid,
    version: status.version,
    logFile: path.join(dir, 'dovecot.log'),
    readLog,
    /** Every process of the instance (master, config, log, anvil, auth, stats, login and imap processes). */
    processes: () => processTree(child.pid),
    async stop() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM'); // the master stops its children
      const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
      await exited;
      clearTimeout(timer);
      // Its children outlive a SIGKILLed master: give them a moment to notice.
      await sleep(200);
    },
  };
}
