import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectProblem, expectStatus, Session, startApi, type TestApi } from '@test/support/api';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';

type Tenant = Awaited<ReturnType<Session['newTenant']>>;

describe('mailbox import (CSV)', () => {
  let db: TestDatabase;
  let api: TestApi;
  let sut: Session;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let tenant: Tenant;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    sut = await Session.create(api, db);
    reseller = await sut.newReseller();
    tenant = await sut.newTenant(reseller, { maxMailboxes: 6 });
    await addDomain(db, tenant.id, 'corp.example');
  });
  afterAll(async () => {
    await api?.close();
    await db?.drop();
  });

  const url = (t: Tenant = tenant) => `/v1/tenants/${t.id}/mailboxes/import`;
  /** A text/csv body: the document types it as a string, sent as is. */
  const postCsv = (csv: string, t: Tenant = tenant, caller = t.admin, headers: Record<string, string> = {}) =>
    caller.typed.POST('/v1/tenants/{tenantId}/mailboxes/import', {
      params: { path: { tenantId: t.id } },
      body: csv,
      bodySerializer: (body) => body,
      headers: { 'content-type': 'text/csv; charset=utf-8', ...headers },
    });

  it('creates, skips and fails rows one by one, and can be sent again', async () => {
    const csv = [
      'address,name,password,quota',
      'ann@corp.example,"Ann, the Boss",lavender-sky-2031,2G',
      'ben@corp.example,Ben,,500M',
      'Ann@corp.example,Ann again,lavender-sky-2031,',
      'cat@corp.example,"Cat ""the"" Admin",generate,1073741824',
      'bad..dot@corp.example,Bad,lavender-sky-2031,',
      'dan@nowhere.example,Dan,lavender-sky-2031,',
      'eve@corp.example,Eve,short,',
      'fay@corp.example,Fay,lavender-sky-2031,lots',
      'postmaster@corp.example,PM,lavender-sky-2031,',
      '"gus@corp.example","Gus\r\nGreen",lavender-sky-2031,1G',
    ].join('\r\n');
    const res = expectStatus(await postCsv(csv), 200);
    expect(res).toMatchObject({ created: 4, skipped: 1, failed: 5 });
    const byLine = Object.fromEntries(res.rows.map((r) => [r.line, r]));
    expect(byLine[2]).toMatchObject({ status: 'created', address: 'ann@corp.example' });
    expect(byLine[2]!.password).toBeUndefined();
    expect(byLine[3]).toMatchObject({ status: 'created', address: 'ben@corp.example' });
    expect(byLine[3]!.password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(byLine[4]).toMatchObject({ status: 'skipped', reason: 'repeats line 2' });
    expect(byLine[5]).toMatchObject({ status: 'created' });
    expect(byLine[6]).toMatchObject({ status: 'failed' });
    expect(byLine[6]!.reason).toMatch(/^address: the local part/);
    expect(byLine[7]).toMatchObject({
      status: 'failed',
      reason: 'domain: nowhere.example is not a domain of this tenant',
    });
    expect(byLine[8]).toMatchObject({ status: 'failed', reason: 'password: must be at least 12 characters' });
    expect(byLine[9]!.reason).toMatch(/^quota: must be bytes/);
    expect(byLine[10]!.reason).toMatch(/system alias/);
    expect(byLine[11]).toMatchObject({ status: 'created', address: 'gus@corp.example' });

    const ann = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'ann' } });
    expect(ann).toMatchObject({ displayName: 'Ann, the Boss', quotaBytes: 2n * 1024n ** 3n });
    expect(await argon2.verify(ann.passwordHash, 'lavender-sky-2031')).toBe(true);
    const ben = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'ben' } });
    expect(await argon2.verify(ben.passwordHash, byLine[3]!.password!)).toBe(true);
    expect(ben.quotaBytes).toBe(500n * 1024n ** 2n);
    const cat = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'cat' } });
    expect(cat.displayName).toBe('Cat "the" Admin');
    const gus = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'gus' } });
    expect(gus.displayName).toBe('Gus\r\nGreen');

    const again = expectStatus(await postCsv(csv), 200);
    expect(again).toMatchObject({ created: 0, skipped: 5, failed: 5 });
    expect(again.rows[0]).toMatchObject({ status: 'skipped', reason: 'already exists' });

    const audit = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/audit-log', {
        params: { path: { tenantId: tenant.id }, query: { action: 'mailbox.*' } },
      }),
      200,
    );
    const actions = audit.items.map((e) => e.action);
    expect(actions.filter((a) => a === 'mailbox.create')).toHaveLength(4);
    expect(actions.filter((a) => a === 'mailbox.import')).toHaveLength(2);
  });

  it('fails the rows past the plan limit with the limit named', async () => {
    const csv = 'address\nh1@corp.example\nh2@corp.example\nh3@corp.example\n';
    const res = expectStatus(await postCsv(csv), 200);
    expect(res).toMatchObject({ created: 2, failed: 1 });
    expect(res.rows[2]!.reason).toBe('Plan limit reached: maxMailboxes is 6 for this tenant.');
  });

  it('accepts JSON {csv} too', async () => {
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'json.example');
    const res = expectStatus(
      await t.admin.typed.POST('/v1/tenants/{tenantId}/mailboxes/import', {
        params: { path: { tenantId: t.id } },
        body: { csv: 'address,name\nzed@json.example,Zed' },
      }),
      200,
    );
    expect(res).toMatchObject({ created: 1, skipped: 0, failed: 0 });
    expect(res.rows[0]!.password).toHaveLength(20);
  });

  it('refuses a file it cannot read as a whole, with a 422 naming csv', async () => {
    const cases: [string, RegExp][] = [
      ['address,phone\nx@corp.example,1', /unknown column phone/],
      ['name\nX', /must name an address column/],
      ['address\n"x@corp.example', /quoted field is never closed/],
      ['address\nx"y@corp.example', /a quote inside an unquoted field/],
      ['address\n', /no rows/],
      [`address\n${Array.from({ length: 5001 }, (_, i) => `u${i}@corp.example`).join('\n')}`, /at most 5000 per call/],
    ];
    for (const [csv, message] of cases) {
      const res = await postCsv(csv);
      expect(res.response.status, csv.slice(0, 30)).toBe(422);
      const problem = expectProblem(res, 422);
      expect(problem.errors?.[0]?.field).toBe('csv');
      expect(problem.errors?.[0]?.message).toMatch(message);
    }
    // Raw: a JSON body without csv and with an unknown field is outside the contract.
    const json = await tenant.admin.post(url(), { file: 'x' });
    expect(json.status).toBe(422);
    expect(json.body.errors.map((e: { field: string }) => e.field)).toEqual(['csv', 'file']);
  });

  it('honours Idempotency-Key on a CSV body: a repeat replays, another file with the key is refused', async () => {
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'idem.example');
    const headers = { 'content-type': 'text/csv', 'Idempotency-Key': 'import-1' };
    const first = expectStatus(await postCsv('address\none@idem.example', t, t.admin, headers), 200);
    expect(first.created).toBe(1);
    const replay = await postCsv('address\none@idem.example', t, t.admin, headers);
    expect(expectStatus(replay, 200)).toEqual(first);
    expect(replay.response.headers.get('idempotency-replayed')).toBe('true');
    const other = expectProblem(await postCsv('address\ntwo@idem.example', t, t.admin, headers), 422);
    expect(other.errors?.[0]?.field).toBe('Idempotency-Key');
  });

  it('is refused to viewers', async () => {
    expectProblem(await postCsv('address\nv@corp.example', tenant, tenant.viewer, { 'content-type': 'text/csv' }), 403);
  });
});
