import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage } from '@test/support/smtp/harness';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { APP_ENTRY, appEnv, freePort, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';
import { RawPop3 } from '@test/support/pop3/pop3-client';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';
import { RawImap } from './raw-imap';

// The built app as operators run it (`npm run start:imap`), beside the built MTA: the demo seed
// through the CLI, a message in on port 25, out over IMAP; /health and /metrics; SIGTERM.
describe('imap: the built app as a process', () => {
  let db: TestDatabase;
  let env: Record<string, string>;
  const running: RunningProcess[] = [];
  let imap: RunningProcess;
  let demo: { mailbox: string; mailboxPassword: string };

  beforeAll(async () => {
    db = await createTestDatabase();
    env = await appEnv(db.url, {
      IMAP_HOST: '127.0.0.1',
      IMAP_PORT: String(await freePort()),
      IMAPS_PORT: String(await freePort()),
      POP3_PORT: String(await freePort()),
      POP3S_PORT: String(await freePort()),
      IMAP_HEALTH_PORT: String(await freePort()),
    });
    const seed = runNode(APP_ENTRY.cli, ['seed', '--json'], env);
    expect(await seed.exited).toBe(0);
    demo = JSON.parse(seed.output().trim().split('\n').at(-1)!) as typeof demo;
    const mta = runNode(APP_ENTRY.mta, [], env);
    running.push(mta);
    await waitForHttp(`http://127.0.0.1:${env.MTA_HEALTH_PORT}/health`, mta, 30_000, 200);
    imap = runNode(APP_ENTRY.imap, [], env);
    running.push(imap);
    await waitForHttp(`http://127.0.0.1:${env.IMAP_HEALTH_PORT}/health`, imap, 30_000, 200);
  }, 90_000);

  afterAll(async () => {
    await Promise.all(running.map((p) => p.stop()));
    await db?.drop();
  });

  it('reads the demo mailbox: a message from port 25 comes back over IMAP', async () => {
    const smtp = await RawSmtp.connect(Number(env.SMTP_PORT));
    await smtp.command('EHLO sender.test');
    const body = basicMessage('someone@sender.test', demo.mailbox, 'to the demo mailbox');
    expect((await transaction(smtp, 'someone@sender.test', [demo.mailbox], body)).at(-1)!.code).toBe(250);
    smtp.close();
    const client = new ImapFlow({
      host: '127.0.0.1',
      port: Number(env.IMAPS_PORT),
      secure: true,
      tls: { rejectUnauthorized: false },
      auth: { user: demo.mailbox, pass: demo.mailboxPassword },
      logger: false,
    });
    await client.connect();
    await client.mailboxOpen('INBOX');
    const msg = await client.fetchOne('*', { source: true });
    expect(msg && msg.source?.toString('latin1').endsWith(body)).toBe(true);
    await client.logout();
  });

  it('serves /health and the IMAP and POP3 metrics', async () => {
    const raw = await RawImap.connect(Number(env.IMAP_PORT));
    expect(await raw.line()).toMatch(/^\* OK \[CAPABILITY .*STARTTLS LOGINDISABLED\] /);
    const { client: pop3 } = await RawPop3.connect(Number(env.POP3S_PORT), { tls: true });
    await pop3.command(`USER ${demo.mailbox}`);
    expect(await pop3.command(`PASS ${demo.mailboxPassword}`)).toBe('+OK Logged in.');
    expect(await pop3.command('STAT')).toMatch(/^\+OK \d+ \d+$/);
    const metrics = await (await fetch(`http://127.0.0.1:${env.IMAP_HEALTH_PORT}/metrics`)).text();
    expect(metrics).toMatch(/^mailroom_imap_sessions\{app="imap"\} [1-9]/m);
    expect(metrics).toMatch(/^mailroom_imap_logins_total\{result="ok",app="imap"\} [1-9]/m);
    expect(metrics).toMatch(/^mailroom_imap_commands_total\{command="(UID )?FETCH",app="imap"\} [1-9]/m);
    expect(metrics).toMatch(/^mailroom_pop3_sessions\{app="imap"\} 1$/m);
    expect(metrics).toMatch(/^mailroom_pop3_logins_total\{result="ok",app="imap"\} 1$/m);
    expect(metrics).toMatch(/^mailroom_pop3_commands_total\{command="STAT",app="imap"\} 1$/m);
    pop3.close();
    raw.close();
  });

  it('stops on SIGTERM', async () => {
    imap.child.kill('SIGTERM');
    expect(await imap.exited).toBe(0);
  });
});
