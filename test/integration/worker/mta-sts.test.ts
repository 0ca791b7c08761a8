import { randomBytes } from 'node:crypto';
import https from 'node:https';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import selfsigned from 'selfsigned';
import { SMTPServer } from 'smtp-server';
import { loadConfig } from '@mailroom/config';
import { createNodeResolver } from '@mailroom/dns';
import { DeliveryAgent } from '@mailroom/worker/delivery/delivery-agent';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { queueOutboundRows } from '@test/support/outbound-rows';
import { freePort } from '@test/support/processes';

/** Outbound delivery to domains that publish an MTA-STS policy (RFC 8461). */
describe('MTA-STS enforcement on delivery', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let policyServer: https.Server;
  let policyText = '';
  /** The policy host answers 200 and then drip-feeds a body that never ends. */
  let drip = false;
  let cert: string;
  let key: string;
  const servers: SMTPServer[] = [];
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    const pems = await selfsigned.generate([{ name: 'commonName', value: 'secure.example' }], {
      keySize: 2048,
      extensions: [
        {
          name: 'subjectAltName',
          altNames: [
            { type: 2, value: 'sink.secure.example' },
            { type: 2, value: 'mta-sts.secure.example' },
            { type: 2, value: 'sink.plain.example' },
          ],
        },
      ],
    });
    cert = pems.cert;
    key = pems.private;
    policyServer = https.createServer({ cert, key }, (_req, res) => {
      if (!drip) return res.writeHead(200, { 'content-type': 'text/plain' }).end(policyText);
      res.writeHead(200, { 'content-type': 'text/plain' });
      const timer = setInterval(() => res.write('#'), 100);
      res.on('close', () => clearInterval(timer));
    });
    const policyPort = await freePort();
    await new Promise<void>((resolve) => policyServer.listen(policyPort, '127.0.0.1', resolve));
    dns = await LocalDnsServer.start(
      [
        'secure.example. 60 IN MX 10 sink.secure.example.',
        'sink.secure.example. 60 IN A 127.0.0.1',
        'mta-sts.secure.example. 60 IN A 127.0.0.1',
        '_mta-sts.secure.example. 60 IN TXT "v=STSv1; id=20261128"',
      ].join('\n'),
    );
    (globalThis as { policyPort?: number }).policyPort = policyPort;
    tenantId = (await db.prisma.tenant.create({ data: { name: 'T' } })).id;
  });

  afterAll(async () => {
    for (const s of servers) await new Promise<void>((resolve) => s.close(() => resolve()));
    policyServer?.close();
    await dns?.close();
    await db?.drop();
  });

  async function sink(options: { starttls: boolean }) {
    let secure: boolean | null = null;
    let count = 0;
    const server = new SMTPServer({
      authOptional: true,
      logger: false,
      key,
      cert,
      ...(options.starttls ? {} : { disabledCommands: ['STARTTLS'] }),
      onData(stream, session, callback) {
        secure = session.secure;
        count++;
        stream.resume();
        stream.on('end', () => callback());
      },
    });
    const port = await freePort();
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    servers.push(server);
    return { port, sessionSecure: () => secure, count: () => count };
  }

  async function attempt(port: number, policyTimeoutMs?: number) {
    const config = loadConfig({
      DATABASE_URL: db.url,
      REDIS_URL: process.env.REDIS_URL!,
      MX_HOSTNAME: 'mx.mailroom.test',
      MASTER_KEY: randomBytes(32).toString('hex'),
      SMTP_DELIVERY_PORT: String(port),
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      DELIVERY_CONNECT_TIMEOUT_MS: '2000',
    });
    const agent = new DeliveryAgent(db.prisma, config, createNodeResolver(config.DNS_SERVERS, 1000, 1), {
      mtaSts: {
        port: (globalThis as { policyPort?: number }).policyPort!,
        ca: cert,
        ...(policyTimeoutMs ? { timeoutMs: policyTimeoutMs } : {}),
      },
    });
    const raw = Buffer.from(
      `From: a@sender.example\r\nSubject: s\r\nMessage-ID: <${randomBytes(4).toString('hex')}@x>\r\n\r\nbody\r\n`,
    );
    const [deliveryId] = await queueOutboundRows(db.prisma, {
      tenantId,
      raw,
      envelopeFrom: 'a@sender.example',
      recipients: ['ceo@secure.example'],
    });
    const result = await agent.deliver({ tenantId, deliveryId: deliveryId! });
    const row = await db.prisma.delivery.findUniqueOrThrow({ where: { tenantId_id: { tenantId, id: deliveryId! } } });
    return { result, row };
  }

  it('delivers over verified TLS to an MX the enforced policy lists', async () => {
    policyText = 'version: STSv1\r\nmode: enforce\r\nmx: sink.secure.example\r\nmax_age: 86400\r\n';
    const s = await sink({ starttls: true });
    const { row } = await attempt(s.port);
    expect(row.status).toBe('delivered');
    expect(s.sessionSecure()).toBe(true);
  });

  it('gives up on a policy host that drip-feeds its answer, within its deadline', async () => {
    // A hostile domain's policy host sends a byte now and then, never idle long enough to time
    // out: the fetch held the delivery job, its destination slot and its claim for days.
    drip = true;
    try {
      const s = await sink({ starttls: true });
      const outcome = await Promise.race([
        attempt(s.port, 500),
        new Promise<'hung'>((resolve) => setTimeout(() => resolve('hung'), 10_000)),
      ]);
      expect(outcome).not.toBe('hung');
      expect((outcome as Awaited<ReturnType<typeof attempt>>).row.status).toBe('delivered');
    } finally {
      drip = false;
    }
  });

  it('defers instead of sending in clear text when the MX offers no STARTTLS', async () => {
    const s = await sink({ starttls: false });
    const { row } = await attempt(s.port);
    expect(row.status).toBe('deferred');
    expect(row.lastResponse).toMatch(/^4\.7\.5 TLS required by the domain's MTA-STS policy failed/);
    expect(s.count()).toBe(0);
  });
});

describe('MTA-STS policy parsing and MX matching', () => {
  it('reads a policy and matches wildcards to one label only', async () => {
    const { parseMtaStsPolicy, mxMatches } = await import('@mailroom/delivery');
    const policy = parseMtaStsPolicy(
      'version: STSv1\nmode: enforce\nmx: mail.example.com\nmx: *.backup.example.com\nmax_age: 604800\n',
      'x1',
    );
    expect(policy).toEqual({
      id: 'x1',
      mode: 'enforce',
      mx: ['mail.example.com', '*.backup.example.com'],
      maxAgeSeconds: 604800,
    });
    expect(mxMatches('mail.example.com.', policy!.mx)).toBe(true);
    expect(mxMatches('mx1.backup.example.com', policy!.mx)).toBe(true);
    expect(mxMatches('a.mx1.backup.example.com', policy!.mx)).toBe(false);
    expect(mxMatches('evil.example.net', policy!.mx)).toBe(false);
    expect(parseMtaStsPolicy('version: STSv2\nmode: enforce\nmax_age: 1\n', 'x')).toBeNull();
    expect(parseMtaStsPolicy('version: STSv1\nmode: strict\nmax_age: 1\n', 'x')).toBeNull();
  });
});
