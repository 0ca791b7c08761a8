import fs from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Browser, BrowserContext, Page } from 'playwright-core';
import { LocalDnsServer } from '@mailroom/dns/testing/local-dns-server';
import { PLATFORM_ZONE } from '@mailroom/dns/testing/plan-fixture';
import { createTestDatabase, type TestDatabase } from '@test/support/database';
import { expectStatus, PASSWORD, Session, startApi, type TestApi } from '@test/support/api';
import { APP_ENTRY, appEnv, runNode, waitForHttp, type RunningProcess } from '@test/support/processes';
import { addDomain } from '@test/e2e/api/walk/mail-fixtures';
import { expectAccessible, launchChromium, tabTo } from './browser';

// The dashboard's domain onboarding, CSV import, filter rules and the other mailbox settings, as
// a tenant admin uses them in Chromium: the real API serving the built app, the built worker
// checking DNS through a DNS server on loopback that the test publishes records in.
describe('dashboard: domains, mailbox import and mail handling', () => {
  let db: TestDatabase;
  let dns: LocalDnsServer;
  let api: TestApi;
  let worker: RunningProcess;
  let browser: Browser;
  let tenant: Awaited<ReturnType<Session['newTenant']>>;

  beforeAll(async () => {
    db = await createTestDatabase();
    dns = await LocalDnsServer.start('');
    const env = await appEnv(db.url, {
      DNS_SERVERS: `127.0.0.1:${dns.port}`,
      DNS_TIMEOUT_MS: '500',
      SPF_INCLUDE: 'spf.mailroom.test',
      SCHEDULES_ENABLED: 'false',
    });
    api = await startApi(db, {
      QUEUE_PREFIX: env.QUEUE_PREFIX!,
      MASTER_KEY: env.MASTER_KEY!,
      SPF_INCLUDE: 'spf.mailroom.test',
    });
    worker = runNode(APP_ENTRY.worker, [], env);
    await waitForHttp(`http://127.0.0.1:${env.WORKER_HEALTH_PORT}/health`, worker, 30_000, 200);
    const sut = await Session.create(api, db);
    tenant = await sut.newTenant(await sut.newReseller(), { maxMailboxes: 100 });
    await addDomain(db, tenant.id, 'corp.example');
    browser = await launchChromium();
  });
  afterAll(async () => {
    await browser?.close();
    await worker?.stop();
    await api?.close();
    await dns?.close();
    await db?.drop();
  });

  const tenantPath = () => ({ params: { path: { tenantId: tenant.id } } });

  async function signedIn(): Promise<{ context: BrowserContext; page: Page }> {
    const context = await browser.newContext({ viewport: { width: 1280, height: 900 }, locale: 'en-US' });
    const page = await context.newPage();
    page.setDefaultTimeout(15_000);
    await page.goto(api.url + '/');
    await page.getByLabel('Email').fill(tenant.adminEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'Mailboxes', level: 1 }).waitFor();
    return { context, page };
  }

  async function mailboxId(localPart: string): Promise<string> {
    const row = await db.prisma.mailbox.findFirstOrThrow({ where: { tenantId: tenant.id, localPart } });
    return row.id;
  }

  it('adds a domain and shows its records turn green as the DNS server publishes them', async () => {
    const { context, page } = await signedIn();
    await page.getByRole('link', { name: 'Domains' }).click();
    await page.getByRole('heading', { name: 'Domains', level: 1 }).waitFor();
    await page.getByLabel('Domain name').fill('green.example');
    await page.getByRole('button', { name: 'Add domain' }).click();
    await page.getByRole('status').filter({ hasText: 'Domain green.example added' }).waitFor();
    await page.getByRole('heading', { name: 'Records to publish for green.example' }).waitFor();
    const domain = (await db.prisma.domain.findFirstOrThrow({ where: { tenantId: tenant.id, name: 'green.example' } }))
      .id;
    const path = { params: { path: { tenantId: tenant.id, domainId: domain } } };
    const rows = page.locator('table.records-table tbody tr');
    const row = (type: string, host: string) =>
      rows.filter({ has: page.locator('td', { hasText: new RegExp(`^${type}`) }) }).filter({ hasText: host });

    // Nothing published: the check says what is missing, in a sentence per record.
    await page.getByRole('button', { name: 'Check now the DNS records of green.example' }).click();
    const ownership = row('TXT', '_mailroom-verify');
    await expect.poll(() => ownership.locator('.badge').textContent(), { timeout: 30_000 }).toBe('missing');
    await expect(ownership.textContent()).resolves.toMatch(/_mailroom-verify\.green\.example/);

    // The zone the page downloads is what gets published.
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Download BIND zone of green.example' }).click();
    const file = await download;
    expect(file.suggestedFilename()).toBe('green.example.zone');
    const zone = fs.readFileSync((await file.path())!, 'utf8');
    expect(zone).toMatch(/^green\.example\.\s+\d+\s+IN\s+MX\s+/m);
    dns.serve(`${zone}\n${PLATFORM_ZONE}\n`);

    await page.getByRole('button', { name: 'Check now the DNS records of green.example' }).click();
    await expect.poll(() => ownership.locator('.badge').textContent(), { timeout: 30_000 }).toBe('ok');
    const plan = expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}/dns', path), 200);
    for (const record of plan.records.filter((r) => r.required)) {
      expect(record.status, record.key).toBe('ok');
    }
    const green = plan.records.filter((r) => r.status === 'ok').length;
    expect(await rows.filter({ has: page.locator('.badge-ok') }).count()).toBe(green);
    const head = page.locator('.domain-head', { hasText: 'green.example' });
    await expect.poll(() => head.locator('.badge').textContent()).toBe('active');
    expect(plan.domain.status).toBe('active');
    await expectAccessible(page, 'domains, records green');

    // DKIM rotation: a new key waiting to be published, in the page and in the API.
    await page.getByRole('button', { name: 'Rotate DKIM key of green.example' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: /New DKIM key \S+: publish its record/ })
      .waitFor();
    const after = expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/domains/{domainId}', path), 200);
    const pending = after.dkim.find((k) => k.status === 'pending');
    expect(pending).toBeDefined();
    await page.locator('.dkim-keys li', { hasText: pending!.selector }).getByText('waiting to be published').waitFor();
    await expect.poll(() => rows.filter({ hasText: pending!.selector }).count()).toBeGreaterThan(0);
    await context.close();
  });

  it('creates a mailbox, imports a CSV and shows the report of each row', async () => {
    const { context, page } = await signedIn();
    await page.getByRole('button', { name: 'New mailbox' }).click();
    await page.getByLabel('Name before the @').fill('boss');
    await page.getByLabel('Domain').selectOption({ label: '@corp.example' });
    await page.getByRole('button', { name: 'Create mailbox' }).click();
    await page.locator('#new-mailbox code.secret').waitFor();
    await page.getByRole('button', { name: 'Done' }).click();
    await page.getByRole('status').filter({ hasText: 'Mailbox boss@corp.example created.' }).waitFor();

    await page.getByRole('button', { name: 'Import CSV' }).click();
    // A file the API cannot read: problem+json naming the csv field, shown on the page.
    await page.getByLabel('or paste the CSV').fill('address,name\n');
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    const importCard = page.locator('#import-mailboxes');
    await expect(importCard.getByRole('alert').textContent()).resolves.toContain('The CSV cannot be imported.');
    await importCard.getByText('has a header line but no rows').waitFor();

    const csv = [
      'address,name,password,quota',
      'ann@corp.example,Ann,lavender-sky-2031,2G',
      'ben@corp.example,Ben,,500M',
      'boss@corp.example,The Boss,,',
      'not an address,Nobody,,',
      'cat@corp.example,Cat,,lots',
    ].join('\n');
    await page
      .getByLabel('CSV file')
      .setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(csv) });
    await expect.poll(() => page.getByLabel('or paste the CSV').inputValue()).toBe(csv);
    await page.getByRole('button', { name: 'Import', exact: true }).click();
    await importCard.getByText('2 created, 1 skipped, 2 failed.').waitFor();
    const report = importCard.locator('table.import-rows tbody tr');
    await expect(report.count()).resolves.toBe(5);
    const line = (n: number) =>
      report.filter({ has: page.locator('td:first-child', { hasText: new RegExp(`^${n}$`) }) });
    await expect(line(2).textContent()).resolves.toContain('created');
    await expect(line(3).locator('code.secret').textContent()).resolves.toMatch(/^.{12,}$/);
    await expect(line(4).textContent()).resolves.toContain('already exists');
    await expect(line(5).textContent()).resolves.toMatch(/failed.*address:/);
    await expect(line(6).textContent()).resolves.toMatch(/failed.*quota: must be bytes or a size/);
    await expectAccessible(page, 'mailboxes with an import report');

    const listed = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes', {
        params: { path: { tenantId: tenant.id }, query: { domain: 'corp.example', limit: 50 } },
      }),
      200,
    );
    expect(listed.items.map((m) => m.address).sort()).toEqual([
      'ann@corp.example',
      'ben@corp.example',
      'boss@corp.example',
    ]);
    expect(listed.items.find((m) => m.address === 'ann@corp.example')?.usage.quotaBytes).toBe(2 * 1024 ** 3);
    // The page's list shows the imported mailboxes too.
    await page.getByLabel('Search mailboxes').fill('ann@');
    await expect
      .poll(() => page.locator('table.mailboxes tbody tr').allTextContents())
      .toEqual([expect.stringContaining('ann@corp.example')]);
    await context.close();
  });

  it('writes a filter with the builder and tests it against a pasted message, by keyboard', async () => {
    const { context, page } = await signedIn();
    const boss = await mailboxId('boss');
    await page.goto(`${api.url}/mailboxes/${boss}`);
    // A reload signs out (tokens live in memory only): sign in again on the mailbox's own address.
    await page.getByLabel('Email').fill(tenant.adminEmail);
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('heading', { name: 'boss@corp.example', level: 1 }).waitFor();
    await page.getByText('No filter rules yet.').waitFor();

    const builder = page.getByRole('form', { name: 'New rule' });
    await builder.getByLabel('Rule name').fill('Invoices');
    await builder.getByLabel('Condition 1: field').selectOption('subject');
    await builder.getByLabel('Condition 1: test').selectOption('contains');
    await builder.getByLabel('Condition 1: value').fill('invoice');
    await builder.getByRole('combobox', { name: /^Action 1\b/ }).selectOption('moveTo');
    await builder.getByLabel('Action 1: folder').fill('Invoices');
    await builder.getByRole('button', { name: 'Add an action' }).click();
    await builder.getByRole('combobox', { name: /^Action 2\b/ }).selectOption('markRead');
    await builder.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule Invoices created.' }).waitFor();
    await page.getByRole('switch', { name: 'Invoices on' }).waitFor();

    const saved = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters', {
        params: { path: { tenantId: tenant.id, mailboxId: boss } },
      }),
      200,
    );
    expect(saved.items).toHaveLength(1);
    expect(saved.items[0]).toMatchObject({
      name: 'Invoices',
      enabled: true,
      matchMode: 'all',
      conditions: [{ field: 'subject', operator: 'contains', value: 'invoice' }],
      actions: [{ type: 'moveTo', folder: 'Invoices' }, { type: 'markRead' }],
    });

    // A rule the API refuses: the page names the field.
    await builder.getByLabel('Rule name').fill('Broken');
    await builder.getByLabel('Condition 1: test').selectOption('regex');
    await builder.getByLabel('Condition 1: value').fill('(a+)+$');
    await builder.getByLabel('Action 1: folder').fill('X');
    await builder.getByRole('button', { name: 'Create rule' }).click();
    await builder.getByText('conditions.0.value').waitFor();

    // The dry run, by keyboard: paste a message, press the button, read what would happen.
    const tester = page.getByRole('form', { name: 'Test against a message' });
    await tabTo(
      page,
      "el.tagName === 'TEXTAREA' && el.closest('form')?.getAttribute('aria-label') === 'Test against a message'",
      200,
    );
    await page.keyboard.insertText(
      'From: billing@shop.example\nTo: boss@corp.example\nSubject: Your invoice 42\n\nPay.\n',
    );
    await tabTo(page, "el.textContent === 'Test the rules'");
    await page.keyboard.press('Enter');
    const result = tester.locator('.test-result');
    await result.getByText('Matching rules: Invoices').waitFor();
    await expect(result.textContent()).resolves.toContain('It would be delivered to Invoices.');
    await expect(result.textContent()).resolves.toContain('It would be marked as read.');

    await tester.getByLabel('Paste a message').fill('From: a@b.example\nSubject: Lunch?\n\nNoon.\n');
    await tester.getByRole('button', { name: 'Test the rules' }).click();
    await result.getByText('No rule matches this message.').waitFor();
    await expect(result.textContent()).resolves.toContain('It would be delivered to INBOX.');
    await expectAccessible(page, 'mailbox with filters');

    // A second rule, moved up so it runs first: the order the API then holds.
    await builder.getByLabel('Rule name').fill('Newsletters');
    await builder.getByLabel('Condition 1: test').selectOption('contains');
    await builder.getByLabel('Condition 1: value').fill('newsletter');
    await builder.getByRole('combobox', { name: /^Action 1\b/ }).selectOption('discard');
    await builder.getByRole('button', { name: 'Create rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule Newsletters created.' }).waitFor();
    await page.getByRole('button', { name: 'Up: run Newsletters earlier' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule Newsletters now runs as number 1.' }).waitFor();
    await expect
      .poll(() => page.locator('.filter-list li strong').allTextContents())
      .toEqual(['Newsletters', 'Invoices']);
    const ordered = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/filters', {
        params: { path: { tenantId: tenant.id, mailboxId: boss } },
      }),
      200,
    );
    expect(ordered.items.map((f) => f.name)).toEqual(['Newsletters', 'Invoices']);
    await context.close();
  });

  it('sets forwarding with a kept copy, a vacation reply, retention and a legal hold', async () => {
    const { context, page } = await signedIn();
    const ann = await mailboxId('ann');
    await page.getByLabel('Search mailboxes').fill('ann@');
    await page.getByRole('link', { name: 'Details of ann@corp.example' }).click();
    await page.getByRole('heading', { name: 'ann@corp.example', level: 1 }).waitFor();
    const one = { params: { path: { tenantId: tenant.id, mailboxId: ann } } };

    const forwarding = page.getByRole('region', { name: 'Forwarding' });
    await forwarding.getByText('This mailbox does not forward.').waitFor();
    await forwarding.getByLabel('Forward to (one address per line)').fill('ann.home@elsewhere.example');
    await forwarding.getByRole('button', { name: 'Save forwarding' }).click();
    await forwarding.getByText('Forwards to ann.home@elsewhere.example and keeps a copy here.').waitFor();
    expect(
      expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/forwarding', one), 200),
    ).toMatchObject({ targets: ['ann.home@elsewhere.example'], keepCopy: true, enabled: true });
    // A target inside the tenant is refused, and the page says why.
    await forwarding.getByLabel('Forward to (one address per line)').fill('ben@corp.example');
    await forwarding.getByRole('button', { name: 'Save forwarding' }).click();
    await forwarding.getByRole('alert').waitFor();

    const vacation = page.getByRole('region', { name: 'Vacation reply' });
    await vacation.getByLabel('Subject').fill('Away');
    await vacation.getByLabel('Message').fill('Back on Monday.');
    await vacation.getByRole('button', { name: 'Save reply' }).click();
    await vacation.getByRole('status').filter({ hasText: 'Vacation reply saved and on.' }).waitFor();
    expect(
      expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/vacation', one), 200),
    ).toMatchObject({ subject: 'Away', body: 'Back on Monday.', activeNow: true, intervalDays: 7 });

    const retention = page.getByRole('region', { name: 'Retention' });
    await retention.getByLabel('Trash').fill('7');
    await retention.getByRole('button', { name: 'Save retention' }).click();
    await retention.getByText('Now: kept 7 days').waitFor();
    expect(
      expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/retention/mailboxes/{mailboxId}', one), 200)
        .overrides,
    ).toEqual({ trash: 7 });

    const hold = page.getByRole('region', { name: 'Legal hold' });
    await hold.getByLabel('Reason (a case or matter reference)').fill('Case 2026-17');
    await hold.getByRole('button', { name: 'Place on hold' }).click();
    await hold.getByText(/On hold: Case 2026-17/).waitFor();
    expect(
      expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/mailboxes/{mailboxId}/legal-hold', one), 200),
    ).toMatchObject({ legalHold: true, reason: 'Case 2026-17' });
    await expectAccessible(page, 'mailbox settings with forwarding and hold');
    // On a phone the sections stack and nothing scrolls sideways.
    await page.setViewportSize({ width: 390, height: 844 });
    const overflow = (await page.evaluate('document.documentElement.scrollWidth - window.innerWidth')) as number;
    expect(overflow).toBeLessThanOrEqual(0);
    await context.close();
  });

  it('adds an alias and a catch-all, and an IP rule that an address check then follows', async () => {
    const { context, page } = await signedIn();
    await page.getByRole('link', { name: 'Aliases' }).click();
    await page.getByRole('heading', { name: 'Aliases', level: 1 }).waitFor();
    const form = page.getByRole('form', { name: 'New alias' });
    await form.getByLabel('Name before the @').fill('sales');
    await form.getByRole('combobox', { name: /^Domain/ }).selectOption({ label: '@corp.example' });
    await form.getByLabel('Destinations (one address per line)').fill('ann@corp.example\nben@corp.example');
    await form.getByRole('button', { name: 'Create alias' }).click();
    await page.getByRole('status').filter({ hasText: 'Alias sales@corp.example created.' }).waitFor();
    await form.getByLabel('Catch-all: every address of the domain without a mailbox').check();
    await form.getByLabel('Destinations (one address per line)').fill('boss@corp.example');
    await form.getByRole('button', { name: 'Create alias' }).click();
    await page.getByRole('status').filter({ hasText: 'Alias *@corp.example created.' }).waitFor();
    await page.locator('table.aliases tr', { hasText: '*@corp.example' }).getByText('catch-all').waitFor();
    const aliases = expectStatus(
      await tenant.admin.typed.GET('/v1/tenants/{tenantId}/aliases', {
        params: { path: { tenantId: tenant.id }, query: { domain: 'corp.example', system: 'false' } },
      }),
      200,
    );
    expect(aliases.items.map((a) => [a.address, a.catchAll, a.destinations])).toEqual(
      expect.arrayContaining([
        ['sales@corp.example', false, ['ann@corp.example', 'ben@corp.example']],
        ['*@corp.example', true, ['boss@corp.example']],
      ]),
    );
    await expectAccessible(page, 'aliases');

    await page.getByRole('link', { name: 'IP rules' }).click();
    await page.getByRole('heading', { name: 'IP rules', level: 1 }).waitFor();
    const rule = page.getByRole('form', { name: 'New rule' });
    await rule.getByLabel('Address or range (CIDR)').fill('198.51.100.0/24');
    await rule.getByLabel('Protocol').selectOption('imap');
    await rule.getByLabel('Action').selectOption('allow');
    await rule.getByRole('button', { name: 'Add rule' }).click();
    await page.getByRole('status').filter({ hasText: 'Rule for 198.51.100.0/24 added.' }).waitFor();
    const check = page.getByRole('form', { name: 'Check an address' });
    await check.getByLabel('Client address').fill('203.0.113.9');
    await check.getByLabel('Protocol').selectOption('imap');
    await check.getByRole('button', { name: 'Check' }).click();
    await check.getByText(/^Refused: /).waitFor();
    const rules = expectStatus(await tenant.admin.typed.GET('/v1/tenants/{tenantId}/ip-rules', tenantPath()), 200);
    expect(rules.items.map((r) => [r.cidr, r.service, r.action])).toEqual([['198.51.100.0/24', 'imap', 'allow']]);
    await expectAccessible(page, 'ip rules');
    // The same page in Slovak: its strings come from the catalogue, not the code.
    await page.getByLabel('Language').selectOption('sk');
    await page.getByRole('heading', { name: 'Pravidlá IP', level: 1 }).waitFor();
    await page.getByRole('form', { name: 'Overiť adresu' }).waitFor();
    await page.getByRole('link', { name: 'Aliasy' }).click();
    await page.locator('table.aliases tr', { hasText: '*@corp.example' }).getByText('zberná adresa').waitFor();
    await expectAccessible(page, 'aliases in Slovak');
    await context.close();
  });
});
