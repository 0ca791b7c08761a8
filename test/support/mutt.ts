import { execFile } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MuttAccount {
  host: string;
  port: number;
  user: string;
  password: string;
  /** PEM certificate mutt should trust (the server's self-signed one). */
  certFile: string;
  /** STARTTLS on the plain port, or TLS from the first byte. */
  tls: 'starttls' | 'imaps';
}

export interface MuttRun {
  /** The screen mutt drew, escape sequences and all (for messages such as "1 kept"). */
  screen: string;
  /** A scratch directory for files the keys write (`<pipe-message>cat > $dir/x<enter>`). */
  dir: string;
}

const quote = (value: string) => `"${value.replace(/[\\"$`]/g, (c) => `\\${c}`)}"`;

/**
 * Runs Debian's mutt against an IMAP server as a user would, keys and all: mutt reads mail only
 * in a terminal, so it runs under `script` (a pseudo-terminal), with the keys pushed from its
 * muttrc (`push`), no caches, and only the given certificate trusted. `{dir}` in `keys` is
 * replaced by the scratch directory.
 */
export async function runMutt(account: MuttAccount, folder: string, keys: string): Promise<MuttRun> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'mailroom-mutt-'));
  const scheme = account.tls === 'imaps' ? 'imaps' : 'imap';
  const url = `${scheme}://${account.host}:${account.port}/`;
  const rc = [
    `set imap_user=${quote(account.user)}`,
    `set imap_pass=${quote(account.password)}`,
    `set folder=${quote(url)}`,
    `set ssl_starttls=yes`,
    `set ssl_force_tls=yes`,
    `set certificate_file=${quote(account.certFile)}`,
    `set ssl_verify_host=no`,
    'set wait_key=no',
    'set quit=yes',
    'set move=no',
    'set delete=yes',
    'set confirmappend=no',
    'set pipe_decode=no',
    'set mail_check=0',
    'set timeout=1',
    'set imap_idle=no',
    'unset header_cache',
    'unset message_cachedir',
    `push ${quote(keys.replaceAll('{dir}', dir))}`,
  ];
  const rcFile = path.join(dir, 'muttrc');
  await fs.writeFile(rcFile, rc.join('\n') + '\n', { mode: 0o600 });
  const command = `mutt -n -F ${rcFile} -f ${url}${encodeURI(folder)}`;
  const { stdout } = await run('script', ['-qec', command, '/dev/null'], {
    env: { ...process.env, TERM: 'xterm', HOME: dir },
    timeout: 30_000,
  });
  return { screen: stdout, dir };
}
