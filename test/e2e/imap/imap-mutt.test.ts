import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage } from '@test/support/smtp/harness';
import { createImapHarness, PASSWORD, type ImapHarness } from './imap-harness';

const run = promisify(execFile);
const hasMutt = fs.existsSync('/usr/bin/mutt') && fs.existsSync('/usr/bin/script');

// mutt (Debian) in batch: a pseudo-terminal from script(1), keys pushed with -e, the
// self-signed certificate trusted through certificate_file.
describe.skipIf(!hasMutt)('imap: mutt reads and moves mail', () => {
  let x: ImapHarness;
  let dir: string;

  beforeAll(async () => {
    x = await createImapHarness();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-mutt-'));
    fs.writeFileSync(path.join(dir, 'certs'), x.cert);
  });
  afterAll(async () => {
    await x?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  async function mutt(address: string, keys: string): Promise<void> {
    const rc = path.join(dir, `muttrc-${address}`);
    fs.writeFileSync(
      rc,
      [
        `set folder="imaps://${address.replace('@', '%40')}@localhost:${x.imap.ports.imaps}/"`,
        'set spoolfile="+INBOX"',
        `set imap_pass="${PASSWORD}"`,
        `set certificate_file="${path.join(dir, 'certs')}"`,
        'set delete=yes quit=yes confirmappend=no confirmcreate=no wait_key=no',
        'set header_cache="" message_cachedir="" mail_check=0 imap_keepalive=0',
      ].join('\n'),
    );
    const command = `mutt -n -F ${rc} -e 'push "${keys}"'`;
    await run('script', ['-qec', command, '/dev/null'], {
      env: { PATH: process.env.PATH, TERM: 'xterm', HOME: dir },
      timeout: 30_000,
    });
  }

  it('pipes the message it reads byte for byte, and saves it to Archive', async () => {
    const { address } = await x.user('muttuser');
    const body = basicMessage('someone@sender.test', address, 'for mutt');
    await x.deliver(address, body);
    const out = path.join(dir, 'piped.eml');
    await mutt(address, `<pipe-message>cat > ${out}<enter><save-message>=Archive<enter><sync-mailbox><quit>`);
    expect(fs.readFileSync(out, 'latin1').replace(/\r\n/g, '\n').endsWith(body.replace(/\r\n/g, '\n'))).toBe(true);
    const rows = await x.h.prisma.message.findMany({
      where: { subject: 'for mutt' },
      include: { folder: { select: { name: true } } },
    });
    expect(rows.map((r) => r.folder.name)).toEqual(['Archive']);
  }, 60_000);
});
