import { execFileSync } from 'node:child_process';
import { ImapFlow } from 'imapflow';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { basicMessage } from '@test/support/smtp/harness';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { APP_ENTRY, appEnv, imapPortsEnv, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';
import { RawPop3 } from '@test/support/pop3/pop3-client';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';
import { RawImap } from './raw-imap';

// The built app as operators run it (`npm run start:imap`), beside the built MTA: the demo seed
// through the CLI, a message in on port 25, out over IMAP; /health and /metrics; SIGTERM. Once as
// one process, once as a cluster of two workers (IMAP_WORKERS=2), whose primary counts the
// per-IP limit across workers, sums their metrics and restarts a worker that dies.
describe.each([{ workers: 1 }, { workers: 2 }])(
  'imap: the built app as a process, $workers worker(s)',
  ({ workers }) => {
    let db: TestDatabase;
    let env: Record<string, string>;
    const running: RunningProcess[] = [];
    let imap: RunningProcess;
    let demo: { mailbox: string; mailboxPassword: string };

    beforeAll(async () => {
      db = await createTestDatabase();
      env = await appEnv(db.url, {
        ...(await imapPortsEnv()),
        IMAP_WORKERS: String(workers),
        IMAP_MAX_CONNECTIONS_PER_IP: '4',
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

    it('refuses the connection past IMAP_MAX_CONNECTIONS_PER_IP, counted across every worker', async () => {
      const open: RawImap[] = [];
      for (let i = 0; i < 4; i++) {
        const raw = await RawImap.connect(Number(env.IMAP_PORT));
        expect(await raw.line()).toMatch(/^\* OK /);
        open.push(raw);
      }
      const refused = await RawImap.connect(Number(env.IMAP_PORT));
      expect(await refused.line()).toMatch(/^\* BYE \[LIMIT\] Too many connections from your IP address \(limit 4\)/);
      refused.close();
      // A closed one frees its slot, whichever worker held it.
      open.pop()!.close();
      await expect
        .poll(async () => {
          const raw = await RawImap.connect(Number(env.IMAP_PORT));
          const line = await raw.line();
          raw.close();
          return line;
        })
        .toMatch(/^\* OK /);
      for (const raw of open) raw.close();
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

    // Only a cluster has workers to lose (defined only then, so the one-process run skips nothing).
    if (workers > 1) {
      it('starts another worker when one dies, and reports every worker in /health', async () => {
        const children = () =>
          execFileSync('pgrep', ['-P', String(imap.child.pid)], { encoding: 'utf8' })
            .trim()
            .split('\n')
            .filter(Boolean);
        const before = children();
        expect(before).toHaveLength(2);
        const health = await (await fetch(`http://127.0.0.1:${env.IMAP_HEALTH_PORT}/health`)).json();
        expect(health).toMatchObject({
          status: 'ok',
          details: { workers: { status: 'up' }, database: { status: 'up' } },
        });
        process.kill(Number(before[0]), 'SIGKILL');
        await expect.poll(() => children().filter((pid) => !before.includes(pid)).length, { timeout: 15_000 }).toBe(1);
        await waitForHttp(`http://127.0.0.1:${env.IMAP_HEALTH_PORT}/health`, imap, 15_000, 200);
        const raw = await RawImap.connect(Number(env.IMAP_PORT));
        expect(await raw.line()).toMatch(/^\* OK /);
        raw.close();
      });
    }

    it('stops on SIGTERM', async () => {
      imap.child.kill('SIGTERM');
      expect(await imap.exited).toBe(0);
      // No worker is left behind.
      expect(() => execFileSync('pgrep', ['-P', String(imap.child.pid)])).toThrow();
    });
  },
);
