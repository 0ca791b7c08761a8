import fs from 'node:fs';
import path from 'node:path';
import { gzipSync } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, PASSWORD, Session, startApi, type TestApi } from '@test/support/api';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';
import { expectAccessible, launchChromium, screenshotPath, tabTo } from './browser';

// The dashboard (apps/web) as a tenant admin uses it: the built files served by the real API
// (createApiApp, as `npm start` runs it) over its own database, driven in Debian's Chromium.
describe('tenant admin dashboard', () => {
  let db: TestDatabase;
  let api: TestApi;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;
  let reseller: Awaited<ReturnType<Session['newReseller']>>;
  let browser: Browser;
  let shopDomainId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    api = await startApi(db);
    const sut = await Session.create(api, db);
    reseller = await sut.newReseller();
    tenant = await sut.newTenant(reseller, { maxMailboxes: 1000 });
    const acme = await addDomain(db, tenant.id, 'acme.example');
    // 120 mailboxes: three pages of 50, searched and paged by the server.
    await db.prisma.mailbox.createMany({
      data: [
        ...Array.from({ length: 119 }, (_, i) => ({
          tenantId: tenant.id,
          domainId: acme.id,
          localPart: `user${String(i).padStart(3, '0')}`,
          passwordHash: 'x',
        })),
        {
          tenantId: tenant.id,
          domainId: acme.id,
          localPart: 'alice.smith',
          displayName: 'Alice Smith',
          passwordHash: 'x',
        },
      ],
    });
    const shop = await tenant.admin.typed.POST('/v1/tenants/{tenantId}/domains', {
      params: { path: { tenantId: tenant.id } },
      body: { name: 'shop.example' },
    });
    shopDomainId = expectStatus(shop, 201).id;
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await api?.close();
    await db?.drop();
  });

  async function open(viewport = { width: 1280, height: 800 }): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport, locale: 'en-US' });
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin: api.url });
    const page = await context.newPage();
    page.setDefaultTimeout(10_000);
    const errors: string[] = [];
    page.on('pageerror', (e) => errors.push(e.message));
    await page.goto(api.url + '/');
    return { context, page };
  }

  async function signIn(page: Page, password = PASSWORD, email = tenant.adminEmail): Promise<void> {
    await page.getByLabel('Email').fill(email);
    await page.getByLabel('Password').fill(password);
    await page.getByRole('button', { name: 'Sign in' }).click();
  }

  it('is served at / beside the API, whose routes answer as before', async () => {
    for (const path of ['/', '/mailboxes', '/domains']) {
      const res = await fetch(api.url + path);
      expect(res.status, path).toBe(200);
      expect(await res.text()).toContain('<div id="root"></div>');
    }
    for (const path of ['/v1/no-such-route', '/assets/no-such-file.js']) {
      const unknown = await fetch(api.url + path);
      expect(unknown.status, path).toBe(404);
      expect(unknown.headers.get('content-type')).toMatch(/^application\/problem\+json/);
    }
    const malformed = await fetch(api.url + '/v1/auth/login', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: '{not json',
    });
    expect(malformed.status).toBe(400);
    expect(((await (await fetch(api.url + '/openapi.json')).json()) as { openapi: string }).openapi).toBe('3.1.0');
    expect((await fetch(api.url + '/health')).status).toBe(200);
    expect(await (await fetch(api.url + '/docs')).text()).toContain('swagger');
  });

  it('loads under 250 KB of compressed JavaScript', () => {
    const dist = path.resolve(__dirname, '../../../dist/web');
    const html = fs.readFileSync(path.join(dist, 'index.html'), 'utf8');
    const scripts = [...html.matchAll(/<script[^>]+src="\/([^"]+)"/g)].map((m) => m[1]!);
    const preloads = [...html.matchAll(/<link rel="modulepreload"[^>]+href="\/([^"]+)"/g)].map((m) => m[1]!);
    expect(scripts.length).toBeGreaterThan(0);
    const gzipped = [...scripts, ...preloads].reduce(
      (sum, file) => sum + gzipSync(fs.readFileSync(path.join(dist, file))).length,
      0,
    );
    expect(gzipped).toBeLessThan(250 * 1024);
  });

  it('lets a reseller admin pick the tenant to manage', async () => {
    const { context, page } = await open();
    await signIn(page, PASSWORD, reseller.adminEmail);
    await page.getByRole('heading', { name: 'Choose a tenant', level: 1 }).waitFor();
    const name = (await db.prisma.tenant.findUniqueOrThrow({ where: { id: tenant.id } })).name;
    await page.getByRole('button', { name }).click();
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    await expect.poll(() => page.locator('table.mailboxes tbody tr').count()).toBe(50);
    await expect(page.title()).resolves.toBe('Mailboxes · Mailroom');
    await page.getByRole('button', { name: 'Change tenant' }).click();
    await page.getByRole('heading', { name: 'Choose a tenant', level: 1 }).waitFor();
    await context.close();
  });

  it('says so when the password is wrong, and the sign-in page passes axe', async () => {
    const { context, page } = await open();
    await expectAccessible(page, 'sign-in');
    await signIn(page, 'not the password');
    await expect(page.getByRole('alert').textContent()).resolves.toContain('Wrong email or password.');
    await expect(page.getByLabel('Password').inputValue()).resolves.toBe('');
    await expectAccessible(page, 'sign-in with an error');
    // The check can fail: an image without a text alternative is a critical violation.
    await page.evaluate(`document.body.insertAdjacentHTML('beforeend', '<img src="/nothing.png">')`);
    await expect(expectAccessible(page, 'a broken page')).rejects.toThrow(/image-alt/);
    await context.close();
  });

  it('signs in, searches and pages mailboxes, switches a protocol and creates a mailbox', async () => {
    const { context, page } = await open();
    await signIn(page);
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    const rows = page.locator('table.mailboxes tbody tr');
    await expect.poll(() => rows.count()).toBe(50);
    await expect(rows.first().textContent()).resolves.toContain('alice.smith@acme.example');
    await expectAccessible(page, 'mailboxes');
    await page.screenshot({ path: screenshotPath('dashboard-mailboxes.png') });

    // Keyset paging: page 2 starts where page 1 ended; page 3 holds the last 20.
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 2').waitFor();
    await expect.poll(() => rows.first().textContent()).toContain('user049@acme.example');
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByText('Page 3').waitFor();
    await expect.poll(() => rows.count()).toBe(20);
    await expect(page.getByRole('button', { name: 'Next page' }).isDisabled()).resolves.toBe(true);

    // Server-side search, back on page 1.
    await page.getByLabel('Search mailboxes').fill('alice');
    await expect.poll(() => rows.count()).toBe(1);
    await page.getByText('Page 1').waitFor();

    // The POP3 switch of alice: off in the page, off in the database.
    const pop3 = page.getByRole('switch', { name: 'POP3 for alice.smith@acme.example' });
    await expect(pop3.isChecked()).resolves.toBe(true);
    await pop3.click();
    await page.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    await expect(pop3.isChecked()).resolves.toBe(false);
    const alice = await db.prisma.mailbox.findFirstOrThrow({
      where: { tenantId: tenant.id, localPart: 'alice.smith' },
    });
    expect(alice.pop3Enabled).toBe(false);

    // Create a mailbox with a generated password, shown once.
    await page.getByRole('button', { name: 'New mailbox' }).click();
    await page.getByLabel('Name before the @').fill('new.person');
    await page.getByLabel('Domain').selectOption({ label: '@acme.example' });
    await page.getByLabel('Display name (optional)').fill('New Person');
    await page.getByLabel('Storage quota in MB').fill('2048');
    await page.getByRole('button', { name: 'Create mailbox' }).click();
    await page.locator('#new-mailbox code.secret, #new-mailbox [role=alert]').first().waitFor();
    expect(
      await page.locator('#new-mailbox [role=alert]').count(),
      await page.locator('#new-mailbox').innerText(),
    ).toBe(0);
    const secret = await page.locator('#new-mailbox code.secret').textContent();
    expect(secret?.length).toBeGreaterThanOrEqual(12);
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('status').filter({ hasText: 'Mailbox new.person@acme.example created.' }).waitFor();

    const listed = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes', {
        params: { path: { tenantId: tenant.id }, query: { q: 'new.person' } },
      }),
      200,
    );
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0]).toMatchObject({
      address: 'new.person@acme.example',
      displayName: 'New Person',
      usage: { quotaBytes: 2048 * 1024 * 1024 },
    });
    await context.close();
  });

  it("shows a domain's DNS records to publish, with copy buttons", async () => {
    const { context, page } = await open();
    await signIn(page);
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
    await page.getByRole('button', { name: 'Show DNS records of shop.example' }).click();
    await page.getByRole('heading', { name: 'Records to publish for shop.example' }).waitFor();

    const plan = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/dns', {
        params: { path: { tenantId: tenant.id, domainId: shopDomainId } },
      }),
      200,
    );
    const rows = page.locator('table.records-table tbody tr');
    await expect.poll(() => rows.count()).toBe(plan.records.length);
    const mx = plan.records.find((r) => r.type === 'MX')!;
    const mxRow = rows.filter({ hasText: mx.value }).first();
    await mxRow.getByRole('button', { name: /^Copy the Value of the MX record/ }).click();
    await page.getByRole('status').filter({ hasText: 'Copied to the clipboard.' }).waitFor();
    await expect(page.evaluate('navigator.clipboard.readText()')).resolves.toBe(`${mx.priority} ${mx.value}`);

    // "Check now" queues a check (202) and says so.
    const verify = page.waitForResponse((r) => r.url().endsWith(`/domains/${shopDomainId}/verify`));
    await page.getByRole('button', { name: 'Check now the DNS records of shop.example' }).click();
    expect((await verify).status()).toBe(202);
    await page.getByRole('status').filter({ hasText: 'A check of shop.example is queued' }).waitFor();

    await expectAccessible(page, 'domains with records');
    await page.screenshot({ path: screenshotPath('dashboard-domains.png'), fullPage: true });
    await context.close();
  });

  it('works by keyboard alone: sign in, open a mailbox, create an app password', async () => {
    const { context, page } = await open();
    await tabTo(page, "el.getAttribute('name') === 'email'");
    await page.keyboard.type(tenant.adminEmail);
    await page.keyboard.press('Tab');
    await page.keyboard.type(PASSWORD);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();

    await tabTo(page, "el.getAttribute('type') === 'search'");
    await page.keyboard.type('alice');
    await expect.poll(() => page.locator('table.mailboxes tbody tr').count()).toBe(1);
    await tabTo(page, "el.getAttribute('aria-label') === 'Details of alice.smith@acme.example'");
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'alice.smith@acme.example', level: 1 }).waitFor();
    await expectAccessible(page, 'mailbox');

    await tabTo(page, "el.closest('label')?.textContent === 'Program or device'");
    await page.keyboard.type('Thunderbird at home');
    await tabTo(page, "el.textContent === 'Create app password'");
    await page.keyboard.press('Enter');
    const shown = page.locator('.alert-success code.secret');
    await shown.waitFor();
    expect(await shown.textContent()).toMatch(/^[a-z]{4}( ?[a-z]{4}){3}$/i);
    await page.getByText('Thunderbird at home').first().waitFor();

    const alice = await db.prisma.mailbox.findFirstOrThrow({
      where: { tenantId: tenant.id, localPart: 'alice.smith' },
    });
    const saved = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords', {
        params: { path: { tenantId: tenant.id, mailboxId: alice.id } },
      }),
      200,
    );
    expect(saved.items.map((p) => [p.name, [...p.protocols].sort()])).toEqual([
      ['Thunderbird at home', ['imap', 'smtp']],
    ]);
    await context.close();
  });

  it("changes a mailbox's settings, POP3 behaviour and app passwords", async () => {
    const mailbox = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart: 'user000' } });
    // POP3 serves folders of the mailbox: the rows made in SQL above have none yet.
    await db.prisma.folder.create({
      data: { tenantId: tenant.id, mailboxId: mailbox.id, name: 'INBOX', kind: 'inbox' },
    });
    const { context, page } = await open();
    await signIn(page);
    await page.getByLabel('Search mailboxes').fill('user000');
    await page.getByRole('link', { name: 'Details of user000@acme.example' }).click();
    await page.getByRole('heading', { name: 'user000@acme.example', level: 1 }).waitFor();
    const read = async () =>
      expectStatus(
        await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}', {
          params: { path: { tenantId: tenant.id, mailboxId: mailbox.id } },
        }),
        200,
      );

    const general = page.locator('form', { has: page.getByRole('heading', { name: 'Mailbox', level: 2 }) });
    await general.getByRole('switch', { name: 'Enabled' }).uncheck();
    await general.getByLabel('Storage quota in MB').fill('512');
    await general.getByRole('button', { name: 'Save' }).click();
    await general.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect(await read()).toMatchObject({ status: 'disabled', usage: { quotaBytes: 512 * 1024 * 1024 } });

    const pop3 = page.locator('form', { has: page.getByRole('heading', { name: 'POP3 settings' }) });
    await pop3.getByLabel('A POP3 download marks the message read').uncheck();
    await pop3.getByLabel('When a POP3 client deletes a message').selectOption('keep');
    await pop3.getByRole('button', { name: 'Save' }).click();
    await pop3.getByRole('status').filter({ hasText: 'Saved.' }).waitFor();
    expect((await read()).pop3).toMatchObject({ markRead: false, deleteMode: 'keep' });

    await page.getByLabel('Program or device').fill('Phone');
    await page.getByRole('button', { name: 'Create app password' }).click();
    await page.locator('.alert-success code.secret').waitFor();
    await page.getByRole('button', { name: 'Revoke the app password Phone' }).click();
    await page.getByRole('status').filter({ hasText: 'App password Phone revoked.' }).waitFor();
    await page.getByText('No app passwords yet.').waitFor();
    const left = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/app-passwords', {
        params: { path: { tenantId: tenant.id, mailboxId: mailbox.id } },
      }),
      200,
    );
    expect(left.items).toEqual([]);
    await expectAccessible(page, 'mailbox settings');
    await context.close();
  });

  it('answers an expired session and a server error with a message, never a blank page', async () => {
    const { context, page } = await open();
    await signIn(page);
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();

    // A server error: the page says so and offers to try again, which then works.
    await page.route('**/v1/tenants/*/domains?*', (route) =>
      route.fulfill({
        status: 500,
        contentType: 'application/problem+json',
        headers: { 'x-request-id': 'req-test-500' },
        body: JSON.stringify({
          type: 'about:blank',
          title: 'Internal Server Error',
          status: 500,
          correlationId: 'req-test-500',
        }),
      }),
    );
    await page.getByRole('link', { name: 'Domains' }).click();
    const alert = page.getByRole('alert');
    await expect(alert.textContent()).resolves.toContain('The server could not answer (500).');
    await expect(alert.textContent()).resolves.toContain('req-test-500');
    await page.unroute('**/v1/tenants/*/domains?*');
    await page.getByRole('button', { name: 'Try again' }).click();
    await page.getByRole('heading', { name: 'shop.example' }).waitFor();

    // The session ends on the server (its refresh tokens gone) and the access token is refused:
    // the refresh fails and the sign-in page says the session expired.
    await db.prisma.refreshToken.deleteMany({});
    await page.route('**/v1/tenants/*/mailboxes?*', (route) =>
      route.fulfill({
        status: 401,
        contentType: 'application/problem+json',
        body: JSON.stringify({ type: 'about:blank', title: 'Unauthorized', status: 401 }),
      }),
    );
    await page.getByRole('link', { name: 'Mailboxes' }).click();
    await page.getByText('Your session has expired. Please sign in again.').waitFor();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await context.close();
  });

  it('fits a phone and speaks Slovak', async () => {
    const { context, page } = await open({ width: 390, height: 844 });
    await page.getByLabel('Language').selectOption('sk');
    await page.getByRole('heading', { name: 'Prihlásenie do Mailroomu' }).waitFor();
    await page.getByLabel('E-mail').fill(tenant.adminEmail);
    await page.getByLabel('Heslo').fill(PASSWORD);
    await page.getByRole('button', { name: 'Prihlásiť sa' }).click();
    await page.getByRole('heading', { name: 'Schránky', level: 1 }).waitFor();
    await expect.poll(() => page.locator('table.mailboxes tbody tr').count()).toBe(50);
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await expect(page.evaluate('document.documentElement.lang')).resolves.toBe('sk');
    await expectAccessible(page, 'mailboxes on a phone, in Slovak');
    await context.close();
  });
});
