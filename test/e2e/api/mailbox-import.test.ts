import argon2 from 'argon2';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { Session, startApi, type TestApi } from '@test/support/api';
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
  const postCsv = (csv: string, t: Tenant = tenant) =>
    t.admin.request('POST', url(t), csv, { 'content-type': 'text/csv; charset=utf-8' });

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
    const res = await postCsv(csv);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 4, skipped: 1, failed: 5 });
    const byLine = Object.fromEntries(res.body.rows.map((r: { line: number }) => [r.line, r]));
    expect(byLine[2]).toMatchObject({ status: 'created', address: 'ann@corp.example' });
    expect(byLine[2].password).toBeUndefined();
    expect(byLine[3]).toMatchObject({ status: 'created', address: 'ben@corp.example' });
    expect(byLine[3].password).toMatch(/^[A-Za-z0-9]{20}$/);
    expect(byLine[4]).toMatchObject({ status: 'skipped', reason: 'repeats line 2' });
    expect(byLine[5]).toMatchObject({ status: 'created' });
    expect(byLine[6]).toMatchObject({ status: 'failed' });
    expect(byLine[6].reason).toMatch(/^address: the local part/);
    expect(byLine[7]).toMatchObject({
      status: 'failed',
      reason: 'domain: nowhere.example is not a domain of this tenant',
    });
    expect(byLine[8]).toMatchObject({ status: 'failed', reason: 'password: must be at least 12 characters' });
    expect(byLine[9].reason).toMatch(/^quota: must be bytes/);
    expect(byLine[10].reason).toMatch(/system alias/);
    expect(byLine[11]).toMatchObject({ status: 'created', address: 'gus@corp.example' });

    const ann = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'ann' } });
    expect(ann).toMatchObject({ displayName: 'Ann, the Boss', quotaBytes: 2n * 1024n ** 3n });
    expect(await argon2.verify(ann.passwordHash, 'lavender-sky-2031')).toBe(true);
    const ben = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'ben' } });
    expect(await argon2.verify(ben.passwordHash, byLine[3].password)).toBe(true);
    expect(ben.quotaBytes).toBe(500n * 1024n ** 2n);
    const cat = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'cat' } });
    expect(cat.displayName).toBe('Cat "the" Admin');
    const gus = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'gus' } });
    expect(gus.displayName).toBe('Gus\r\nGreen');

    const again = await postCsv(csv);
    expect(again.body).toMatchObject({ created: 0, skipped: 5, failed: 5 });
    expect(again.body.rows[0]).toMatchObject({ status: 'skipped', reason: 'already exists' });

    const audit = await tenant.admin.get(`/v1/tenants/${tenant.id}/audit-log?action=mailbox.*`);
    const actions = audit.body.items.map((e: { action: string }) => e.action);
    expect(actions.filter((a: string) => a === 'mailbox.create')).toHaveLength(4);
    expect(actions.filter((a: string) => a === 'mailbox.import')).toHaveLength(2);
  });

  it('fails the rows past the plan limit with the limit named', async () => {
    const csv = 'address\nh1@corp.example\nh2@corp.example\nh3@corp.example\n';
    const res = await postCsv(csv);
    expect(res.body).toMatchObject({ created: 2, failed: 1 });
    expect(res.body.rows[2].reason).toBe('Plan limit reached: maxMailboxes is 6 for this tenant.');
  });

  it('accepts JSON {csv} too', async () => {
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'json.example');
    const res = await t.admin.post(url(t), { csv: 'address,name\nzed@json.example,Zed' });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({ created: 1, skipped: 0, failed: 0 });
    expect(res.body.rows[0].password).toHaveLength(20);
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
      expect(res.status, csv.slice(0, 30)).toBe(422);
      expect(res.body.errors[0].field).toBe('csv');
      expect(res.body.errors[0].message).toMatch(message);
    }
    const json = await tenant.admin.post(url(), { file: 'x' });
    expect(json.status).toBe(422);
    expect(json.body.errors.map((e: { field: string }) => e.field)).toEqual(['csv', 'file']);
  });

  it('honours Idempotency-Key on a CSV body: a repeat replays, another file with the key is refused', async () => {
    const t = await sut.newTenant(reseller);
    await addDomain(db, t.id, 'idem.example');
    const headers = { 'content-type': 'text/csv', 'Idempotency-Key': 'import-1' };
    const first = await t.admin.request('POST', url(t), 'address\none@idem.example', headers);
    expect(first.status).toBe(200);
    expect(first.body.created).toBe(1);
    const replay = await t.admin.request('POST', url(t), 'address\none@idem.example', headers);
    expect(replay.body).toEqual(first.body);
    expect(replay.headers.get('idempotency-replayed')).toBe('true');
    const other = await t.admin.request('POST', url(t), 'address\ntwo@idem.example', headers);
    expect(other.status).toBe(422);
    expect(other.body.errors[0].field).toBe('Idempotency-Key');
  });

  it('is refused to viewers', async () => {
    const res = await tenant.viewer.request('POST', url(), 'address\nv@corp.example', { 'content-type': 'text/csv' });
    expect(res.status).toBe(403);
  });
});
