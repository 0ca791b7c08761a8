import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { APP_ENTRY, appEnv, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';
import { DbProxy } from '@test/support/smtp/db-proxy';
import { basicMessage, createHarness, type Harness, type RunningInbound } from '@test/support/smtp/harness';
import { RawSmtp, transaction } from '@test/support/smtp/smtp-client';

describe('inbound MX: 250 means committed', () => {
  let h: Harness;
  let proxy: DbProxy;
  let mx: RunningInbound;
  let acme: Awaited<ReturnType<Harness['seed']['hosted']>>;

  beforeAll(async () => {
    h = await createHarness();
    acme = await h.seed.hosted('acme.test', ['alice', 'bob']);
    const target = new URL(h.db.url);
    proxy = await DbProxy.start({ host: target.hostname, port: Number(target.port || 5432) });
    mx = await h.start({}, { databaseUrl: proxy.urlFor(h.db.url) });
  });
  afterAll(async () => {
    await proxy?.close();
    await h?.close();
  });

  async function state() {
    const [messages, blobs, mailboxes] = await Promise.all([
      h.prisma.message.count({ where: { tenantId: acme.tenant.id } }),
      h.prisma.messageBlob.count({ where: { tenantId: acme.tenant.id } }),
      h.prisma.mailbox.findMany({
        where: { tenantId: acme.tenant.id },
        select: { usedBytes: true, messageCount: true },
        orderBy: { localPart: 'asc' },
      }),
    ]);
    return { messages, blobs, mailboxes };
  }

  it('answers RCPT with 451 4.3.0 while the database is unreachable, never 5xx', async () => {
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    await client.command('MAIL FROM:<s@sender.test>');
    proxy.down();
    try {
      expect((await client.command('RCPT TO:<alice@acme.test>')).text).toMatch(/^451 4\.3\.0 /);
    } finally {
      proxy.up();
      client.close();
    }
  });

  it('answers 451 4.3.0 when the database goes away in the middle of the commit, leaving nothing half-written; the retry stores it once', async () => {
    const before = await state();
    const client = await RawSmtp.connect(mx.port);
    await client.command('EHLO client.test');
    // Cut the connection when the first mailbox copy (quota update, uid, message row: one
    // statement) is about to be sent: the blob of this transaction has reached the database.
    const cut = proxy.downWhenSent('INSERT INTO messages (tenant_id, mailbox_id, folder_id');
    const body = basicMessage('s@sender.test', 'alice@acme.test, bob@acme.test', 'cut mid-commit');
    const replies = await transaction(client, 's@sender.test', ['alice@acme.test', 'bob@acme.test'], body);
    await cut;
    proxy.up();
    expect(replies.at(-1)!.text).toMatch(/^451 4\.3\.0 /);
    expect(await state()).toEqual(before);

    const retry = await transaction(client, 's@sender.test', ['alice@acme.test', 'bob@acme.test'], body);
    client.close();
    expect(retry.at(-1)!.code).toBe(250);
    expect(await h.prisma.message.count({ where: { subject: 'cut mid-commit' } })).toBe(2);
    expect((await state()).blobs).toBe(before.blobs + 1);
  });
});

describe('inbound MX as a process', () => {
  let h: Harness;
  let proc: RunningProcess | undefined;

  beforeAll(async () => {
    h = await createHarness();
  });
  afterAll(async () => {
    await proc?.stop();
    await h?.close();
  });

  it('keeps a message acknowledged with 250 when the process is killed right after', async () => {
    const acme = await h.seed.hosted('acme.test', ['alice']);
    const env = await appEnv(h.db.url, { DNS_SERVERS: `127.0.0.1:${h.dns.port}`, DNS_TIMEOUT_MS: '1000' });
    const port = Number(env.SMTP_PORT);
    const start = async () => {
      const p = runNode(APP_ENTRY.mta, [], env);
      await waitForHttp(`http://127.0.0.1:${env.MTA_HEALTH_PORT}/health`, p, 30_000, 200);
      return p;
    };
    proc = await start();
    const client = await RawSmtp.connect(port);
    await client.command('EHLO client.test');
    const replies = await transaction(
      client,
      's@sender.test',
      ['alice@acme.test'],
      basicMessage('s@sender.test', 'alice@acme.test', 'survives kill'),
    );
    expect(replies.at(-1)!.code).toBe(250);
    proc.child.kill('SIGKILL');
    await proc.exited;
    client.close();

    proc = await start();
    const after = await RawSmtp.connect(port);
    expect((await after.command('EHLO client.test')).code).toBe(250);
    after.close();
    const rows = await h.prisma.message.findMany({ where: { mailboxId: acme.mailboxes[0]!.id } });
    expect(rows.map((r) => r.subject)).toEqual(['survives kill']);
    const mailbox = await h.prisma.mailbox.findFirstOrThrow({ where: { id: acme.mailboxes[0]!.id } });
    expect(mailbox.usedBytes).toBe(BigInt(rows[0]!.size));
  });
});
