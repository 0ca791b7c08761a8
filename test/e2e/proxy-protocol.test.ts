import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ImapFlow } from 'imapflow';
import { basicMessage } from '@test/support/smtp/harness';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { startHaproxy, type RunningHaproxy } from '@test/support/haproxy';
import {
  APP_ENTRY,
  appEnv,
  freePort,
  imapPortsEnv,
  runNode,
  waitForHttp,
  type RunningProcess,
} from '@test/support/processes';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';
import { RawImap } from './imap/raw-imap';

// The built MTA and IMAP server behind Debian's HAProxy in TCP mode, as compose/haproxy.cfg runs
// them: HAProxy on 127.0.0.1 is the trusted proxy (PROXY_PROTOCOL_TRUSTED_NETWORKS) and sends
// the PROXY header (v1 on port 25 and POP3S, v2 elsewhere); clients connect from 127.0.0.2 and
// 127.0.0.3, so the apps must see those addresses, not HAProxy's. Tenant IP rules deny 127.0.0.3.
// Once with one IMAP process, once with a cluster of two workers whose primary counts per IP.
describe.each([{ workers: 1 }, { workers: 2 }])(
  'PROXY protocol behind HAProxy, $workers imap worker(s)',
  ({ workers }) => {
    let db: TestDatabase;
    let env: Record<string, string>;
    const running: RunningProcess[] = [];
    let haproxy: RunningHaproxy;
    let demo: { mailbox: string; mailboxPassword: string };
    const lb = { smtp: 0, submissions: 0, imap: 0, imaps: 0, pop3s: 0 };

    beforeAll(async () => {
      db = await createTestDatabase();
      env = await appEnv(db.url, {
        ...(await imapPortsEnv()),
        IMAP_WORKERS: String(workers),
        IMAP_MAX_CONNECTIONS_PER_IP: '2',
        SMTP_MAX_CONNECTIONS_PER_IP: '2',
        PROXY_PROTOCOL_TRUSTED_NETWORKS: '127.0.0.1/32',
        PROXY_PROTOCOL_TIMEOUT_MS: '1000',
      });
      const seed = runNode(APP_ENTRY.cli, ['seed', '--json'], env);
      expect(await seed.exited).toBe(0);
      demo = JSON.parse(seed.output().trim().split('\n').at(-1)!) as typeof demo;
      await db.prisma.$executeRawUnsafe(`
      INSERT INTO ip_access_rules (tenant_id, cidr, action, service, updated_at)
      SELECT t.id, '127.0.0.3/32', 'deny', s::"IpRuleService", now()
        FROM tenants t CROSS JOIN unnest(ARRAY['imap', 'submission', 'pop3']) s`);
      const mta = runNode(APP_ENTRY.mta, [], env);
      running.push(mta);
      await waitForHttp(`http://127.0.0.1:${env.MTA_HEALTH_PORT}/health`, mta, 30_000, 200);
      const imap = runNode(APP_ENTRY.imap, [], env);
      running.push(imap);
      await waitForHttp(`http://127.0.0.1:${env.IMAP_HEALTH_PORT}/health`, imap, 30_000, 200);
      for (const key of Object.keys(lb) as Array<keyof typeof lb>) lb[key] = await freePort();
      haproxy = await startHaproxy([
        { listen: lb.smtp, to: Number(env.SMTP_PORT), version: 1 },
        { listen: lb.submissions, to: Number(env.SUBMISSIONS_PORT), version: 2 },
        { listen: lb.imap, to: Number(env.IMAP_PORT), version: 2 },
        { listen: lb.imaps, to: Number(env.IMAPS_PORT), version: 2 },
        { listen: lb.pop3s, to: Number(env.POP3S_PORT), version: 1 },
      ]);
    }, 120_000);

    afterAll(async () => {
      await haproxy?.stop();
      await Promise.all(running.map((p) => p.stop()));
      await db?.drop();
    });

    const imapLogin = async (localAddress: string) => {
      const raw = await RawImap.connect(lb.imaps, true, localAddress);
      expect(await raw.line()).toMatch(/^\* OK /);
      const reply = (await raw.command('a1', `LOGIN ${demo.mailbox} ${demo.mailboxPassword}`)).at(-1);
      raw.close();
      return reply;
    };

    it('applies the IP rule to the client HAProxy names over implicit TLS (993, v2), not to HAProxy', async () => {
      expect(await imapLogin('127.0.0.2')).toMatch(/^a1 OK /);
      expect(await imapLogin('127.0.0.3')).toMatch(/^a1 NO \[AUTHORIZATIONFAILED\] IMAP access from your IP address/);
    });

    it('applies the IP rule to submission over implicit TLS (465, v2)', async () => {
      const auth = async (localAddress: string) => {
        const smtp = await RawSmtp.connect(lb.submissions, { tls: true, localAddress });
        await smtp.command('EHLO client.test');
        const plain = Buffer.from(`\0${demo.mailbox}\0${demo.mailboxPassword}`).toString('base64');
        const reply = await smtp.command(`AUTH PLAIN ${plain}`);
        smtp.close();
        return reply;
      };
      expect((await auth('127.0.0.2')).code).toBe(235);
      expect((await auth('127.0.0.3')).text).toMatch(/^535 5\.7\.1 Access denied: your IP address/);
    });

    it('writes the client address into Received on port 25 (v1)', async () => {
      const smtp = await RawSmtp.connect(lb.smtp, { localAddress: '127.0.0.2' });
      await smtp.command('EHLO sender.test');
      const subject = `through haproxy ${workers}`;
      const body = basicMessage('someone@sender.test', demo.mailbox, subject);
      expect((await transaction(smtp, 'someone@sender.test', [demo.mailbox], body)).at(-1)!.code).toBe(250);
      smtp.close();
      const client = new ImapFlow({
        host: '127.0.0.1',
        // Through HAProxy: 127.0.0.1 is the trusted proxy network, so a direct connection is refused.
        port: lb.imaps,
        secure: true,
        tls: { rejectUnauthorized: false },
        auth: { user: demo.mailbox, pass: demo.mailboxPassword },
        logger: false,
      });
      await client.connect();
      await client.mailboxOpen('INBOX');
      const found = await client.search({ subject });
      const msg = await client.fetchOne(String((found || []).at(-1)), { headers: ['received'] }, { uid: false });
      await client.logout();
      const received = (msg && msg.headers?.toString('latin1').replace(/\r\n[ \t]+/g, ' ')) ?? '';
      expect(received).toMatch(/^Received: from sender\.test \(\S*\[127\.0\.0\.2\]\)/);
    });

    it('counts SMTP connections per client address, not per proxy', async () => {
      const held = [
        await RawSmtp.connect(lb.smtp, { localAddress: '127.0.0.3' }),
        await RawSmtp.connect(lb.smtp, { localAddress: '127.0.0.3' }),
      ];
      await expect(RawSmtp.connect(lb.smtp, { localAddress: '127.0.0.3' })).rejects.toThrow(/greeting: 421/);
      const other = await RawSmtp.connect(lb.smtp, { localAddress: '127.0.0.2' });
      other.close();
      for (const c of held) c.close();
    });

    it('counts IMAP connections per client address, in the cluster primary too', async () => {
      const held = [
        await RawImap.connect(lb.imap, false, '127.0.0.3'),
        await RawImap.connect(lb.imap, false, '127.0.0.3'),
      ];
      for (const c of held) expect(await c.line()).toMatch(/^\* OK /);
      const refused = await RawImap.connect(lb.imap, false, '127.0.0.3');
      expect(await refused.line()).toMatch(/^\* BYE \[LIMIT\] Too many connections from your IP address \(limit 2\)/);
      refused.close();
      const other = await RawImap.connect(lb.imap, false, '127.0.0.2');
      expect(await other.line()).toMatch(/^\* OK /);
      other.close();
      for (const c of held) c.close();
    });

    it('applies the IP rule to POP3 over implicit TLS (995, v1)', async () => {
      const login = async (localAddress: string) => {
        const raw = await RawImap.connect(lb.pop3s, true, localAddress);
        expect(await raw.line()).toMatch(/^\+OK/);
        raw.write(`USER ${demo.mailbox}\r\n`);
        expect(await raw.line()).toMatch(/^\+OK/);
        raw.write(`PASS ${demo.mailboxPassword}\r\n`);
        const reply = await raw.line();
        raw.close();
        return reply;
      };
      expect(await login('127.0.0.2')).toBe('+OK Logged in.');
      expect(await login('127.0.0.3')).toMatch(/^-ERR /);
    });

    it('closes a connection from the trusted network that starts without a header', async () => {
      const direct = await RawImap.connect(Number(env.IMAP_PORT), false, '127.0.0.1');
      // No greeting: the server waits for the header, gets a command, and hangs up.
      direct.write('a1 CAPABILITY\r\n');
      expect(await direct.line(3_000)).toBeNull();
      const smtp = await RawSmtp.connect(Number(env.SMTP_PORT), { greeting: false, localAddress: '127.0.0.1' });
      smtp.write('EHLO direct.test\r\n');
      await smtp.closed;
      expect(smtp.isClosed).toBe(true);
    });

    it('never honours a PROXY header from an untrusted address', async () => {
      // 127.0.0.3 talks to the app directly and claims to be 127.0.0.2.
      const raw = await RawImap.connect(Number(env.IMAPS_PORT), true, '127.0.0.3');
      expect(await raw.line()).toMatch(/^\* OK /);
      raw.write('PROXY TCP4 127.0.0.2 127.0.0.1 40000 993\r\n');
      expect(await raw.line()).toMatch(/^PROXY BAD /);
      expect((await raw.command('a1', `LOGIN ${demo.mailbox} ${demo.mailboxPassword}`)).at(-1)).toMatch(
        /^a1 NO \[AUTHORIZATIONFAILED\] IMAP access from your IP address/,
      );
      raw.close();
      const smtp = await RawSmtp.connect(Number(env.SUBMISSIONS_PORT), { tls: true, localAddress: '127.0.0.3' });
      expect((await smtp.command('PROXY TCP4 127.0.0.2 127.0.0.1 40000 465')).code).toBeGreaterThanOrEqual(500);
      smtp.close();
    });
  },
);
