import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyWebhookSignature } from '@mailroom/webhooks';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { PLATFORM_ZONE } from '@mailroom/dns/testing/plan-fixture';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, Session, startApi, type TestApi } from '@test/support/api';
import { APP_ENTRY, appEnv, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';

interface Received {
  body: string;
  signature: string;
}

/**
 * A domain from "added" to "receiving mail" through the real pieces: the API, the built worker
 * process checking DNS through a real DNS server on loopback, and a webhook receiver.
 */
describe('domain onboarding, end to end', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let api: TestApi;
  let worker: RunningProcess;
  let sink: http.Server;
  const received: Received[] = [];
  let sinkUrl: string;
  let admin: Awaited<ReturnType<Session['newTenant']>>['admin'];
  let tenantId: string;
  let domainId: string;
  let webhookSecret: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start('');
    sink = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        received.push({ body, signature: String(req.headers['mailroom-signature'] ?? '') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => sink.listen(0, '127.0.0.1', resolve));
    sinkUrl = `http://127.0.0.1:${(sink.address() as AddressInfo).port}/hook`;

    const env = await appEnv(db.url, {
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      DNS_TIMEOUT_MS: '500',
      SPF_INCLUDE: 'spf.mailroom.test',
      SCHEDULES_ENABLED: 'false',
    });
    // The API and the worker share the queue prefix and the master key (webhook secrets).
    api = await startApi(db, {
      QUEUE_PREFIX: env.QUEUE_PREFIX!,
      MASTER_KEY: env.MASTER_KEY!,
      SPF_INCLUDE: 'spf.mailroom.test',
    });
    worker = runNode(APP_ENTRY.worker, [], env);
    await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);

    const sut = await Session.create(api, db);
    const tenant = await sut.newTenant(await sut.newReseller());
    admin = tenant.admin;
    tenantId = tenant.id;
    const hook = await admin.typed.POST('/v1/tenants/{tenantId}/webhooks', {
      params: { path: { tenantId } },
      body: { url: sinkUrl, events: ['domain.status_changed'] },
    });
    webhookSecret = expectStatus(hook, 201).secret;
    const domain = await admin.typed.POST('/v1/tenants/{tenantId}/domains', {
      params: { path: { tenantId } },
      body: { name: 'onboard.example' },
    });
    domainId = expectStatus(domain, 201).id;
  });

  afterAll(async () => {
    await worker?.stop();
    await api?.close();
    await dns?.close();
    sink?.close();
    await db?.drop();
  });

  const one = () => ({ params: { path: { tenantId, domainId } } });
  const getDomain = async () =>
    expectStatus(await admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}', one()), 200);

  /** POST verify, then wait until the worker has stored a newer check. */
  async function verify() {
    const before = (await getDomain()).lastCheckedAt;
    expectStatus(await admin.typed.POST('/v1/tenants/{tenantId}/domains/{domainId}/verify', one()), 202);
    const deadline = Date.now() + 30_000;
    for (;;) {
      const domain = await getDomain();
      if (domain.lastCheckedAt && domain.lastCheckedAt !== before) {
        const plan = expectStatus(await admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/dns', one()), 200);
        return { domain, byKey: Object.fromEntries(plan.records.map((r) => [r.key, r])) };
      }
      if (Date.now() > deadline) throw new Error(`no check stored; worker output:\n${worker.output()}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async function zone(): Promise<string> {
    // The zone is text/plain, so the client reads it as text.
    const res = await admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/zone', { ...one(), parseAs: 'text' });
    return expectStatus(res, 200);
  }

  it('stays pending, saying what is missing, while nothing is published', async () => {
    const { domain, byKey } = await verify();
    expect(domain.status).toBe('pending');
    expect(byKey.ownership?.status).toBe('missing');
    expect(byKey.ownership?.message).toMatch(/_mailroom-verify\.onboard\.example/);
    expect(byKey.mx?.status).toBe('missing');
  });

  it('becomes verified when the ownership TXT appears', async () => {
    const ownership = (await zone()).split('\n').filter((l) => l.startsWith('_mailroom-verify.'));
    dns.serve(ownership.join('\n'));
    const { domain, byKey } = await verify();
    expect(domain.status).toBe('verified');
    expect(byKey.ownership?.status).toBe('ok');
  });

  it('becomes active when the whole pasted zone is published, and its DKIM key starts signing', async () => {
    dns.serve(`${await zone()}\n${PLATFORM_ZONE}\n`);
    const { domain, byKey } = await verify();
    expect(domain.status).toBe('active');
    for (const key of ['ownership', 'mx', 'spf', 'dmarc']) expect(byKey[key]?.status, key).toBe('ok');
    expect(domain.dkim[0]?.status).toBe('active');
  });

  it('degrades when a provider’s leftover MX reappears, naming it, and recovers when removed', async () => {
    const good = `${await zone()}\n${PLATFORM_ZONE}\n`;
    dns.serve(`${good}onboard.example. 300 IN MX 0 onboard.example.\n`);
    const degraded = await verify();
    expect(degraded.domain.status).toBe('degraded');
    expect(degraded.byKey.mx?.status).toBe('mismatch');
    expect(degraded.byKey.mx?.message).toMatch(/onboard\.example/);
    dns.serve(good);
    expect((await verify()).domain.status).toBe('active');
  });

  it('keeps the status when the DNS cannot be checked (SERVFAIL): "could not check", not missing', async () => {
    dns.serve(`${await zone()}\n${PLATFORM_ZONE}\n`, ['onboard.example', '_mailroom-verify.onboard.example']);
    const { domain, byKey } = await verify();
    expect(domain.status).toBe('active');
    expect(byKey.mx?.status).toBe('error');
    expect(byKey.ownership?.status).toBe('error');
  });

  it('sent each status change to the webhook, signed with its secret', async () => {
    const deadline = Date.now() + 30_000;
    while (received.length < 4 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
    const events = received.map((r) => {
      expect(verifyWebhookSignature(webhookSecret, r.body, r.signature)).toBe(true);
      expect(verifyWebhookSignature('whsec_wrong', r.body, r.signature)).toBe(false);
      const e = JSON.parse(r.body) as { type: string; data: { from: string; to: string; domain: string } };
      expect(e.type).toBe('domain.status_changed');
      expect(e.data.domain).toBe('onboard.example');
      return `${e.data.from}->${e.data.to}`;
    });
    expect(events.sort()).toEqual(
      ['active->degraded', 'degraded->active', 'pending->verified', 'verified->active'].sort(),
    );
    const hooks = expectStatus(
      await admin.typed.GET('/v1/tenants/{tenantId}/webhooks', { params: { path: { tenantId } } }),
      200,
    );
    const log = expectStatus(
      await admin.typed.GET('/v1/tenants/{tenantId}/webhooks/{webhookId}/deliveries', {
        params: { path: { tenantId, webhookId: hooks.items[0]!.id } },
      }),
      200,
    );
    expect(log.items).toHaveLength(4);
    expect(log.items.every((d) => d.status === 'delivered' && d.lastStatusCode === 204)).toBe(true);
  });
});
