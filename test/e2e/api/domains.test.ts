import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseBindZone } from '@mailroom/dns';
import type { ApiSchema } from '@mailroom/api-client';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectProblem, expectStatus, Session, startApi, type Client, type TestApi } from '@test/support/api';

describe('domains', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  const at = (tenantId = tenant.id) => ({ params: { path: { tenantId } } });
  const one = (domainId: string) => ({ params: { path: { tenantId: tenant.id, domainId } } });
  const add = (body: { name: string; aliasOf?: string }, caller: Client = tenant.admin, tenantId = tenant.id) =>
    caller.typed.POST('/v1/tenants/{tenantId}/domains', { ...at(tenantId), body });
  const list = async (caller: Client = tenant.admin, q?: string) =>
    expectStatus(
      await caller.typed.GET('/v1/tenants/{tenantId}/domains', {
        params: { path: { tenantId: tenant.id }, query: q === undefined ? {} : { q } },
      }),
      200,
    );
  const dnsPlan = async (domainId: string) =>
    expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/dns', one(domainId)), 200);
  const rotate = (domainId: string) =>
    tenant.admin.typed.POST('/v1/tenants/{tenantId}/domains/{domainId}/dkim/rotate', one(domainId));

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db, {
      PLATFORM_DOMAINS: 'mailroom.test',
      SPF_INCLUDE: 'spf.mailroom.test',
      SENDING_IPS: '192.0.2.10',
    });
    sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller(), { maxDomains: 4 });
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('adds an IDN domain as punycode, shown in Unicode too, with a sealed DKIM key', async () => {
    const res = { body: expectStatus(await add({ name: 'Bücher.Example.' }), 201) };
    expect(res.body).toMatchObject({
      name: 'xn--bcher-kva.example',
      unicodeName: 'bücher.example',
      status: 'pending',
      aliasOf: null,
    });
    expect(res.body.dkim).toEqual([
      { selector: expect.stringMatching(/^mr\d{6}[a-z]+$/), status: 'pending', activatedAt: null },
    ]);
    const system = await db.prisma.alias.findMany({ where: { domainId: res.body.id }, orderBy: { localPart: 'asc' } });
    expect(system.map((a) => [a.localPart, a.system, a.destinations])).toEqual([
      ['abuse', true, [tenant.adminEmail]],
      ['postmaster', true, [tenant.adminEmail]],
    ]);
    const key = await db.prisma.dkimKey.findFirstOrThrow({ where: { domainId: res.body.id } });
    expect(key.privateKeyEncrypted).toMatch(/^v1\./);
    expect(key.privateKeyEncrypted).not.toContain('PRIVATE KEY');
    expect(JSON.stringify(res.body)).not.toContain(key.privateKeyEncrypted);
  });

  it.each([
    ['co.uk', /public suffix/i],
    ['mx.mailroom.test', /platform/i],
    ['not a domain', /./],
  ])('refuses %s with a 422 naming the field', async (name, message) => {
    const res = expectProblem(await add({ name }), 422);
    expect(res.errors?.[0]?.field).toBe('name');
    expect(res.errors?.[0]?.message).toMatch(message);
  });

  it('refuses a domain another tenant hosts with 409, without saying who', async () => {
    const other = await sut.newTenant(await sut.newReseller());
    expectStatus(await add({ name: 'taken.example' }, other.admin, other.id), 201);
    const res = expectProblem(await add({ name: 'TAKEN.example' }), 409);
    expect(res.detail).toBe('The domain taken.example is already hosted on this platform.');
    expect(JSON.stringify(res)).not.toContain(other.id);
  });

  it('adds domain aliases of its own domains only, never chains', async () => {
    await add({ name: 'main.example' });
    const alias = expectStatus(await add({ name: 'main-alias.example', aliasOf: 'main.example' }), 201);
    expect(alias.aliasOf).toBe('main.example');
    const chain = expectProblem(await add({ name: 'chain.example', aliasOf: 'main-alias.example' }), 422);
    expect(chain.errors?.[0]).toEqual({
      field: 'aliasOf',
      message: 'main-alias.example is itself an alias; point at the domain it aliases',
    });
    expectProblem(await add({ name: 'x.example', aliasOf: 'taken.example' }), 422);
  });

  it('enforces maxDomains with a 409 naming the limit', async () => {
    expectStatus(await add({ name: 'fourth.example' }), 201);
    const res = expectProblem(await add({ name: 'fifth.example' }), 409);
    expect(res.detail).toBe('Plan limit reached: maxDomains is 4 for this tenant.');
  });

  it('returns every record to publish, and the same as a BIND zone that parses back', async () => {
    const domain = (await list(tenant.admin, 'main.example')).items.find((d) => d.name === 'main.example')!;
    const plan = { body: await dnsPlan(domain.id) };
    const byKey = Object.fromEntries(plan.body.records.map((r) => [r.key, r]));
    const token = (await db.prisma.domain.findFirstOrThrow({ where: { id: domain.id } })).ownershipToken;
    expect(byKey.ownership).toMatchObject({
      type: 'TXT',
      name: '_mailroom-verify.main.example',
      value: `mailroom-verify=${token}`,
      status: 'pending',
      required: true,
    });
    expect(byKey.mx).toMatchObject({ type: 'MX', name: 'main.example', value: 'mx.mailroom.test', priority: 10 });
    expect(byKey.mx?.note).toMatch(/remove/i);
    expect(byKey.spf).toMatchObject({ type: 'TXT', value: 'v=spf1 include:spf.mailroom.test -all' });
    expect(byKey.dmarc).toMatchObject({ type: 'TXT', name: '_dmarc.main.example' });
    expect(byKey.dmarc?.value).toMatch(/^v=DMARC1; p=quarantine; rua=mailto:/);
    const dkimKey = plan.body.records.find((r) => r.key.startsWith('dkim:'));
    expect(dkimKey?.value).toMatch(/^v=DKIM1; k=rsa; p=[A-Za-z0-9+/=]{300,}$/);
    for (const key of [
      'mta-sts',
      'tls-rpt',
      'srv:submission',
      'srv:imaps',
      'srv:pop3s',
      'cname:autoconfig',
      'cname:autodiscover',
      'ptr:192.0.2.10',
    ]) {
      expect(byKey[key], key).toBeDefined();
    }

    // The zone is text/plain, so the client reads it as text.
    const zone = await tenant.admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/zone', {
      ...one(domain.id),
      parseAs: 'text',
    });
    const zoneText = expectStatus(zone, 200);
    expect(zone.response.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(zoneText).toMatch(/^main\.example\.\s+\d+\s+IN\s+MX\s+10 mx\.mailroom\.test\.$/m);
    const parsed = parseBindZone(zoneText);
    const published = plan.body.records.filter((r) => r.type !== 'PTR');
    for (const r of published) {
      const match = parsed.find((p) => p.name === r.name && p.type === r.type);
      expect(match, `${r.type} ${r.name}`).toBeDefined();
    }
  });

  it('queues a verification and makes the check due now', async () => {
    const domain = (await list()).items[0]!;
    await db.prisma.domain.update({
      where: { tenantId_id: { tenantId: tenant.id, id: domain.id } },
      data: { nextCheckAt: new Date(Date.now() + 3_600_000) },
    });
    const res = {
      body: expectStatus(
        await tenant.admin.typed.POST('/v1/tenants/{tenantId}/domains/{domainId}/verify', one(domain.id)),
        202,
      ),
    };
    expect(res.body).toEqual({ queued: true, domainId: domain.id });
    const row = await db.prisma.domain.findFirstOrThrow({ where: { id: domain.id } });
    expect(row.nextCheckAt!.getTime()).toBeLessThanOrEqual(Date.now());
  });

  it('rotates DKIM by publishing a second key, once at a time', async () => {
    const domain = (await list()).items[0]!;
    const first = expectProblem(await rotate(domain.id), 409);
    expect(first.detail).toMatch(/already has a new DKIM key waiting to be published/);
    // Once the first key is published and active, a rotation publishes a second one.
    await db.prisma.dkimKey.updateMany({
      where: { domainId: domain.id },
      data: { status: 'active', activatedAt: new Date() },
    });
    const rotated = expectStatus(await rotate(domain.id), 202);
    expect(rotated.dkim).toHaveLength(2);
    expectProblem(await rotate(domain.id), 409);
    const plan = await dnsPlan(domain.id);
    expect(plan.records.filter((r) => r.key.startsWith('dkim:'))).toHaveLength(2);
  });

  it('deletes a domain: 202, hidden from lists, and audited', async () => {
    const added = (await list(tenant.admin, 'fourth')).items[0]!;
    const deleted = expectStatus(
      await tenant.admin.typed.DELETE('/v1/tenants/{tenantId}/domains/{domainId}', one(added.id)),
      202,
    );
    expect(deleted.deletedAt).not.toBeNull();
    expectProblem(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}', one(added.id)), 404);
    // The slot is free again.
    expectStatus(await add({ name: 'fifth.example' }), 201);
    const log = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'domain.*' } },
      }),
      200,
    );
    expect(log.items.map((e) => e.action)).toEqual(
      expect.arrayContaining(['domain.create', 'domain.delete', 'domain.verify', 'domain.dkim_rotate']),
    );
  });

  it('a viewer reads but cannot add; a key limited to one domain sees only it', async () => {
    await list(tenant.viewer);
    expectProblem(await add({ name: 'viewer.example' }, tenant.viewer), 403);
    const newKey = async (body: ApiSchema<'CreateApiKeyDto'>) =>
      expectStatus(await tenant.admin.typed.POST('/v1/tenants/{tenantId}/api-keys', { ...at(), body }), 201).key;
    const key = sut.withToken(
      await newKey({ name: 'one', scopes: ['domains:read', 'domains:write'], domains: ['main.example'] }),
    );
    expect((await list(key)).items.map((d) => d.name)).toEqual(['main.example']);
    // By id too: its own domain's DNS plan, and no other domain of the tenant (404, as if missing).
    const domains = (await list()).items;
    const main = domains.find((d) => d.name === 'main.example');
    const other = domains.find((d) => d.name !== 'main.example');
    if (!main || !other) throw new Error('the earlier tests add main.example and others');
    const plan = expectStatus(await key.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/dns', one(main.id)), 200);
    expect(plan.domain.name).toBe('main.example');
    expectProblem(await key.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/dns', one(other.id)), 404);
    expectProblem(await add({ name: 'other.example' }, key), 403);
    // Tenant-wide data is beyond a domain-limited key, whatever its scopes.
    const wide = sut.withToken(
      await newKey({ name: 'wide', scopes: ['deliveries:read', 'audit-log:read'], domains: ['main.example'] }),
    );
    const audit = expectProblem(await wide.typed.GET('/v1/tenants/{tenantId}/audit-log', at()), 403);
    expect(audit.detail).toBe('This API key is limited to main.example; tenant-wide data is out of its reach.');
    expectProblem(await wide.typed.GET('/v1/tenants/{tenantId}/deliveries', at()), 403);
  });
});

describe('client settings', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db, {
      CLIENT_IMAP_HOSTNAME: 'imap.mailroom.test',
      CLIENT_SUBMISSION_HOSTNAME: 'smtp.mailroom.test',
    });
    sut = await Session.create(api, db);
    const tenant = await sut.newTenant(await sut.newReseller());
    await db.prisma.domain.create({
      data: {
        tenantId: tenant.id,
        name: 'hosted.example',
        unicodeName: 'hosted.example',
        ownershipToken: 't',
        status: 'active',
        mtaStsMode: 'enforce',
      },
    });
    await db.prisma.domain.create({
      data: { tenantId: tenant.id, name: 'pending.example', unicodeName: 'pending.example', ownershipToken: 't' },
    });
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  it('answers JSON settings for an address of a hosted domain, 404 otherwise', async () => {
    const settings = (email: string) =>
      sut.anonymous().typed.GET('/v1/client-settings', { params: { query: { email } } });
    const res = { body: expectStatus(await settings('jane@hosted.example'), 200) };
    expect(res.body).toEqual({
      email: 'jane@hosted.example',
      domain: 'hosted.example',
      username: 'jane@hosted.example',
      imap: { host: 'imap.mailroom.test', port: 993, security: 'SSL' },
      pop3: { host: 'mx.mailroom.test', port: 995, security: 'SSL' },
      smtp: [
        { host: 'smtp.mailroom.test', port: 465, security: 'SSL' },
        { host: 'smtp.mailroom.test', port: 587, security: 'STARTTLS' },
      ],
    });
    expectProblem(await settings('jane@pending.example'), 404);
    expectProblem(await settings('jane@elsewhere.example'), 404);
    // Raw: leaving out the required email is outside the contract.
    expect((await sut.anonymous().get('/v1/client-settings')).status).toBe(422);
  });

  it('serves Thunderbird autoconfig XML', async () => {
    const { XMLParser } = await import('fast-xml-parser');
    // Raw: autoconfig is XML for mail clients, not part of the JSON API.
    const res = await fetch(`${api.url}/mail/config-v1.1.xml?emailaddress=jane%40hosted.example`);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^application\/xml/);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(await res.text());
    const provider = doc.clientConfig.emailProvider;
    expect(doc.clientConfig['@_version']).toBe('1.1');
    expect(provider['@_id']).toBe('hosted.example');
    expect(provider.domain).toBe('hosted.example');
    const incoming = provider.incomingServer.map((s: Record<string, unknown>) => [
      s['@_type'],
      s.hostname,
      s.port,
      s.socketType,
    ]);
    expect(incoming).toEqual([
      ['imap', 'imap.mailroom.test', 993, 'SSL'],
      ['pop3', 'mx.mailroom.test', 995, 'SSL'],
    ]);
    const outgoing = provider.outgoingServer.map((s: Record<string, unknown>) => [s.port, s.socketType, s.username]);
    expect(outgoing).toEqual([
      [465, 'SSL', '%EMAILADDRESS%'],
      [587, 'STARTTLS', '%EMAILADDRESS%'],
    ]);
  });

  it('answers Outlook autodiscover POSTs with the POX response schema', async () => {
    const { XMLParser } = await import('fast-xml-parser');
    const request = `<?xml version="1.0" encoding="utf-8"?>
<Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">
  <Request><EMailAddress>jane@hosted.example</EMailAddress>
  <AcceptableResponseSchema>http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a</AcceptableResponseSchema></Request>
</Autodiscover>`;
    // Raw: an XML body and answer, for Outlook, not the JSON API.
    const res = await fetch(`${api.url}/autodiscover/autodiscover.xml`, {
      method: 'POST',
      headers: { 'content-type': 'text/xml' },
      body: request,
    });
    expect(res.status).toBe(200);
    const doc = new XMLParser({ ignoreAttributes: false }).parse(await res.text());
    expect(doc.Autodiscover['@_xmlns']).toBe('http://schemas.microsoft.com/exchange/autodiscover/responseschema/2006');
    const response = doc.Autodiscover.Response;
    expect(response['@_xmlns']).toBe('http://schemas.microsoft.com/exchange/autodiscover/outlook/responseschema/2006a');
    expect(response.Account.AccountType).toBe('email');
    expect(response.Account.Action).toBe('settings');
    const protocols = response.Account.Protocol.map((p: Record<string, unknown>) => [
      p.Type,
      p.Server,
      p.Port,
      p.SSL,
      p.LoginName,
    ]);
    expect(protocols).toEqual([
      ['IMAP', 'imap.mailroom.test', 993, 'on', 'jane@hosted.example'],
      ['POP3', 'mx.mailroom.test', 995, 'on', 'jane@hosted.example'],
      ['SMTP', 'smtp.mailroom.test', 465, 'on', 'jane@hosted.example'],
    ]);
  });

  it('serves the MTA-STS policy of the domain named by the Host header', async () => {
    // fetch() cannot set Host; a plain HTTP request can, as a proxy in front of the API would.
    const get = (host: string) =>
      new Promise<{ status: number; body: string }>((resolve, reject) => {
        const req = http.get(`${api.url}/.well-known/mta-sts.txt`, { headers: { host } }, (res) => {
          let body = '';
          res.on('data', (c: Buffer) => (body += c.toString()));
          res.on('end', () => resolve({ status: res.statusCode!, body }));
        });
        req.on('error', reject);
      });
    const res = await get('mta-sts.hosted.example');
    expect(res.status).toBe(200);
    expect(res.body).toBe('version: STSv1\r\nmode: enforce\r\nmx: mx.mailroom.test\r\nmax_age: 604800\r\n');
    expect((await get('mta-sts.nowhere.example')).status).toBe(404);
  });
});
