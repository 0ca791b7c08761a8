import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { message } from '@test/support/smtp/harness';
import { RawPop3, plainToken } from '@test/support/pop3/pop3-client';
import { createPop3Harness, type Pop3Harness, type Pop3User } from '@test/support/pop3/pop3-harness';

const END = '@@@end-of-message@@@';

interface FetchRun {
  code: number;
  output: string;
  /** What the MDA received, message by message, in delivery order. */
  messages: string[];
}

/**
 * fetchmail (Debian package) against our POP3: implicit TLS or STLS, the self-signed test
 * certificate accepted, each message piped to an MDA that writes it to its own file.
 */
function fetchmail(
  dir: string,
  opts: { port: number; implicitTls: boolean; user: Pop3User; keep: boolean; uidl: boolean; all?: boolean },
): Promise<FetchRun> {
  // Every message appended to one file behind an end marker: the file keeps delivery order.
  const out = path.join(dir, 'delivered');
  const offset = fs.existsSync(out) ? fs.statSync(out).size : 0;
  const rc = path.join(dir, 'fetchmailrc');
  fs.writeFileSync(
    rc,
    [
      'set no syslog',
      `set idfile "${path.join(dir, 'ids')}"`,
      `poll 127.0.0.1 service ${opts.port} protocol POP3 ${opts.uidl ? 'uidl' : 'no uidl'} auth password timeout 30`,
      `  user "${opts.user.address}" there with password "${opts.user.password}" is "tester" here`,
      opts.implicitTls ? '  ssl no sslcertck' : '  sslproto "TLS1.2+" no sslcertck',
      `  ${opts.keep ? 'keep' : 'nokeep'} ${opts.all ? 'fetchall' : 'no fetchall'} no rewrite`,
      `  mda "(cat; echo ${END}) >> ${out}"`,
      '',
    ].join('\n'),
    { mode: 0o600 },
  );
  return new Promise((resolve) => {
    execFile(
      'fetchmail',
      ['-f', rc, '--nosyslog', '-v'],
      { env: { ...process.env, FETCHMAILHOME: dir, HOME: dir }, timeout: 60_000 },
      (err, stdout, stderr) => {
        const code = err ? Number((err as { code?: number }).code ?? -1) : 0;
        const text = fs.existsSync(out) ? fs.readFileSync(out).subarray(offset).toString('latin1') : '';
        resolve({
          code,
          output: `${stdout}\n${stderr}`,
          messages: text.split(`${END}\n`).filter((m) => m !== ''),
        });
      },
    );
  });
}

describe('POP3: fetchmail drains a mailbox', () => {
  let sut: Pop3Harness;
  let dir: string;

  beforeAll(async () => {
    sut = await createPop3Harness();
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'mailroom-fetchmail-'));
  });
  afterAll(async () => {
    await sut?.close();
    fs.rmSync(dir, { recursive: true, force: true });
  });

  it('returns a message accepted on port 25 byte for byte through RETR', async () => {
    const u = await sut.user('bytes');
    const sent = message(
      { From: 'Sender <s@example.net>', To: u.address, Subject: 'bytes', 'Message-ID': '<bytes@example.net>' },
      '.leading dot\r\n..two dots\r\n\r\n.\r\nlast line',
    );
    const stored = await sut.deliver(u.address, sent);
    const { client } = await RawPop3.connect(sut.pop3.ports.pop3s, { tls: true });
    await client.command(`AUTH PLAIN ${plainToken('', u.address, u.password)}`);
    const retr = await client.multi('RETR 1');
    client.close();
    // Undo the dot-stuffing (RFC 1939 section 3) and compare with what the MTA committed.
    const received = Buffer.from(retr.body.toString('latin1').replace(/^\./gm, ''), 'latin1');
    expect(received.equals(stored.blob)).toBe(true);
    // The stored message is our trace header, then the bytes exactly as the sender sent them.
    expect(received.toString('latin1').endsWith(sent)).toBe(true);
    expect(retr.status).toBe(`+OK ${stored.blob.length} octets`);
  });

  it('keeps mail on the server with UIDL across two sessions: the second run fetches only the new message', async () => {
    const u = await sut.user('leave');
    const work = path.join(dir, 'leave');
    fs.mkdirSync(work);
    const stored = await sut.deliver(
      u.address,
      message({ From: 's@example.net', To: u.address, Subject: 'first' }, 'one\r\n.dot\r\ntwo'),
    );
    const first = await fetchmail(work, {
      port: sut.pop3.ports.pop3s,
      implicitTls: true,
      user: u,
      keep: true,
      uidl: true,
    });
    expect(first.code, first.output).toBe(0);
    expect(first.messages).toHaveLength(1);
    // fetchmail hands the MDA the message with LF line ends and its own Received line inserted
    // below the Return-Path: everything from our trace header on must be the stored bytes.
    const lf = stored.blob.toString('latin1').replace(/\r\n/g, '\n');
    expect(first.messages[0]!).toContain(lf.slice(lf.indexOf('\nReceived: ') + 1));
    await sut.deliver(u.address, message({ From: 's@example.net', To: u.address, Subject: 'second' }, 'two'));
    const second = await fetchmail(work, {
      port: sut.pop3.ports.pop3s,
      implicitTls: true,
      user: u,
      keep: true,
      uidl: true,
    });
    expect(second.code, second.output).toBe(0);
    expect(second.messages).toHaveLength(1);
    expect(second.messages[0]).toMatch(/^Subject: second$/m);
    const third = await fetchmail(work, {
      port: sut.pop3.ports.pop3s,
      implicitTls: true,
      user: u,
      keep: true,
      uidl: true,
    });
    expect(third.code, third.output).toBe(1); // fetchmail: 1 = no new mail
    expect(await sut.prisma.message.count({ where: { mailboxId: u.mailboxId } })).toBe(2);
  });

  it('drains the mailbox with nokeep over STLS on the plain port, and the rows are gone', async () => {
    const u = await sut.user('drain');
    const work = path.join(dir, 'drain');
    fs.mkdirSync(work);
    for (const subject of ['a', 'b', 'c']) {
      await sut.deliver(
        u.address,
        message({ From: 's@example.net', To: u.address, Subject: `drain ${subject}` }, subject),
      );
    }
    const run = await fetchmail(work, {
      port: sut.pop3.ports.pop3,
      implicitTls: false,
      user: u,
      keep: false,
      uidl: false,
      all: true,
    });
    expect(run.code, run.output).toBe(0);
    expect(run.output).toMatch(/STLS/);
    expect(
      run.messages.map((m) => /^Subject: (.*)$/m.exec(m)?.[1]),
      run.output,
    ).toEqual(['drain a', 'drain b', 'drain c']);
    expect(await sut.prisma.message.count({ where: { mailboxId: u.mailboxId } })).toBe(0);
    const mailbox = await sut.prisma.mailbox.findFirstOrThrow({ where: { id: u.mailboxId } });
    expect(mailbox.usedBytes).toBe(0n);
  });

  it("drains with nokeep under deleteMode 'keep': fetchmail thinks it deleted, the server kept its copy", async () => {
    const u = await sut.user('collector', { pop3DeleteMode: 'keep' });
    const work = path.join(dir, 'collector');
    fs.mkdirSync(work);
    await sut.deliver(u.address, message({ From: 's@example.net', To: u.address, Subject: 'kept' }, 'k'));
    const run = await fetchmail(work, {
      port: sut.pop3.ports.pop3s,
      implicitTls: true,
      user: u,
      keep: false,
      uidl: false,
      all: true,
    });
    expect(run.code, run.output).toBe(0);
    expect(run.messages).toHaveLength(1);
    const rows = await sut.prisma.message.findMany({ where: { mailboxId: u.mailboxId } });
    expect(rows).toHaveLength(1);
    expect(rows[0]!.flags).toContain('\\Seen');
  });
});
